-- dns-a-private.lua: accept DNS responses whose A records point into
-- private or special address space (10/8, 172.16/12, 192.168/16,
-- 127/8, 169.254/16) or whose TTL is under 60 s (fast flux); reject other
-- responses and every non-DNS packet.
--
-- Style: multiple results expanded into a call —
-- string.format('%d.%d.%d.%d', s:byte(p, p + 3)) — then patterns on the
-- dotted string; tonumber on captures; a list of patterns scanned with
-- ipairs; answer names skipped with a pointer-aware loop.
local data = require'data'

local PRIVATE = { '^10%.', '^127%.', '^192%.168%.', '^169%.254%.' }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local udp = data.layout{ sport = {0, 16}, length = {32, 16} }
local dns = data.layout{ qr = {16, 1}, rcode = {28, 4}, qdcount = {32, 16}, ancount = {48, 16} }

local function skip_name(s, pos)
  while true do
    local len = s:byte(pos)
    if not len then return nil end
    if len == 0 then return pos + 1 end
    if len >= 0xC0 then return pos + 2 end
    pos = pos + 1 + len
  end
end

local function private(addr)
  for _, pat in ipairs(PRIVATE) do
    if addr:find(pat) then return true end
  end
  local second = tonumber(addr:match('^172%.(%d+)%.'))
  return second ~= nil and second >= 16 and second <= 31
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 17 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or seg:layout(udp).sport ~= 53 then return false end
  local msg = seg:segment(8)
  if not msg then return false end
  msg:layout(dns)
  if msg.qr ~= 1 or msg.rcode ~= 0 or msg.qdcount ~= 1 then return false end
  local s = tostring(msg)
  local pos = skip_name(s, 13)
  if not pos then return false end
  pos = pos + 4
  for _ = 1, msg.ancount do
    pos = skip_name(s, pos)
    if not pos or pos + 10 > #s then return false end
    local t1, t2 = s:byte(pos, pos + 1)
    local ttl = string.unpack('>I4', s, pos + 4)
    local rdlen = string.unpack('>I2', s, pos + 8)
    if t1 == 0 and t2 == 1 and rdlen == 4 and pos + 13 <= #s then
      local addr = string.format('%d.%d.%d.%d', s:byte(pos + 10, pos + 13))
      if private(addr) or ttl < 60 then return true end
    end
    pos = pos + 10 + rdlen
  end
  return false
end
