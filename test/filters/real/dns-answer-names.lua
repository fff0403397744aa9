-- dns-answer-names.lua: accept DNS responses (UDP source port 53) in which
-- some answer is a CNAME or whose answer names, decompressed, leave the
-- question's domain (the name a CDN hands you off to); reject the rest.
--
-- Style: a full DNS name decoder with compression pointers, run on the
-- message as a Lua string. Names are built as arrays of labels and joined
-- with table.concat; a pointer jump is bounded by a hop counter; every
-- answer becomes a record {name, type, class, ttl, rdlength} in an array
-- that is scanned at the end.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local udp = data.layout{ sport = {0, 16} }

local function u16(s, i)
  local a, b = s:byte(i, i + 1)
  if b == nil then return nil end
  return a << 8 | b
end

local function u32(s, i)
  local hi, lo = u16(s, i), u16(s, i + 2)
  if hi == nil or lo == nil then return nil end
  return hi << 16 | lo
end

-- The name at 1-based position pos of message s, and the position after it
-- in the record (not after the pointer target); nil if it does not decode.
local function read_name(s, pos)
  local labels, after, hops = {}, nil, 0
  while true do
    local len = s:byte(pos)
    if len == nil then return nil end
    if len == 0 then
      return table.concat(labels, '.'):lower(), after or pos + 1
    elseif len >= 0xC0 then
      local low = s:byte(pos + 1)
      if low == nil then return nil end
      hops = hops + 1
      if hops > 16 then return nil end          -- a pointer loop
      after = after or pos + 2
      pos = ((len & 0x3F) << 8 | low) + 1
    elseif len >= 0x40 then
      return nil
    else
      labels[#labels + 1] = s:sub(pos + 1, pos + len)
      pos = pos + 1 + len
    end
  end
end

local function parse(s)
  local qd, an = u16(s, 5), u16(s, 7)
  if an == nil or qd ~= 1 then return nil end
  local qname, pos = read_name(s, 13)
  if qname == nil then return nil end
  pos = pos + 4
  local answers = {}
  for _ = 1, an do
    local name, p = read_name(s, pos)
    if name == nil then break end
    local rr = { name = name, type = u16(s, p), class = u16(s, p + 2), ttl = u32(s, p + 4), rdlength = u16(s, p + 8) }
    if rr.rdlength == nil then break end
    answers[#answers + 1] = rr
    pos = p + 10 + rr.rdlength
  end
  return qname, answers
end

local function domain(name)
  return name:match('([^.]+%.[^.]+)$') or name
end

function filter(pkt)
  local seg
  if pkt:layout(ip4).version == 4 then
    if pkt.proto ~= 17 or pkt.frag ~= 0 then return false end
    seg = pkt:segment(pkt.ihl * 4)
  elseif pkt.version == 6 and pkt:layout(ip6).next == 17 then
    seg = pkt:segment(40)
  end
  if seg == nil or seg:layout(udp).sport ~= 53 then return false end
  local msg = seg:segment(8)
  if msg == nil then return false end
  local qname, answers = parse(tostring(msg))
  if qname == nil then return false end
  local home = domain(qname)
  for _, rr in ipairs(answers) do
    if rr.type == 5 or domain(rr.name) ~= home then return true end
  end
  return false
end
