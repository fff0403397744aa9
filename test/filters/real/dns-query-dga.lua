-- dns-query-dga.lua: accept DNS queries whose name looks machine-made or
-- unusual: a label of 20 characters or more, a label with three digits or
-- more, more than four labels, or a query type other than A/AAAA/PTR.
-- Other queries, responses and non-DNS traffic are rejected.
--
-- Style: labels collected into an array, then scanned with scoring
-- helpers kept in a table of functions (functions as values), gsub's
-- second result used as a count, `#` on strings, and qtype names from
-- a lookup table with `or` for the default.
local data = require'data'

local QTYPES = { [1] = 'A', [28] = 'AAAA', [12] = 'PTR', [255] = 'ANY', [33] = 'SRV', [16] = 'TXT', [5] = 'CNAME' }
local COMMON = { A = true, AAAA = true, PTR = true }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local udp = data.layout{ dport = {16, 16} }

local checks = {
  function(labels) return #labels > 4 end,
  function(labels)
    for i = 1, #labels do
      if #labels[i] >= 20 then return true end
    end
    return false
  end,
  function(labels)
    for _, l in ipairs(labels) do
      local _, digits = l:gsub('%d', '')
      if digits >= 3 then return true end
    end
    return false
  end,
}

local function question(s)
  local labels, pos = {}, 13
  while true do
    local len = s:byte(pos)
    if len == nil or len >= 0x40 then return nil end
    if len == 0 then break end
    labels[#labels + 1] = s:sub(pos + 1, pos + len)
    pos = pos + len + 1
  end
  local hi, lo = s:byte(pos + 1, pos + 2)
  if lo == nil then return nil end
  return labels, hi * 256 + lo
end

function filter(pkt)
  local seg
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.proto == 17 and pkt.frag == 0 then
    seg = pkt:segment(pkt.ihl * 4)
  elseif v == 6 and pkt:layout(ip6).next == 17 then
    seg = pkt:segment(40)
  end
  if seg == nil then return false end
  local port = seg:layout(udp).dport
  if port ~= 53 and port ~= 5353 and port ~= 5355 then return false end
  local msg = seg:segment(8)
  if msg == nil then return false end
  local s = tostring(msg)
  if #s < 12 or s:byte(3) >= 0x80 then return false end   -- QR set: a response
  local labels, qtype = question(s)
  if labels == nil then return false end
  if not COMMON[QTYPES[qtype] or 'other'] then return true end
  for _, check in ipairs(checks) do
    if check(labels) then return true end
  end
  return false
end
