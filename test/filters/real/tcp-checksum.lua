-- tcp-checksum.lua: accept TCP segments over IPv4 whose checksum verifies
-- over the pseudo-header (source, destination, protocol, TCP length);
-- reject bad checksums (e.g. left to the NIC: checksum offload), cut
-- segments, fragments and non-TCP traffic.
--
-- Style: integer arithmetic on numbers read with layouts, mixed with a
-- string loop over the segment: `local hi, lo = s:byte(i, i + 1)` where
-- `lo` is nil at an odd end (`lo or 0`), a local function summing a
-- range, IP addresses read as two 16-bit halves.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, total = {16, 16}, mf = {50, 1}, frag = {51, 13},
                         proto = {72, 8}, s1 = {96, 16}, s2 = {112, 16}, d1 = {128, 16}, d2 = {144, 16} }

local function sum_range(s, first, last, acc)
  for i = first, last, 2 do
    local hi, lo = s:byte(i, i + 1)
    acc = acc + (hi << 8) + (lo or 0)
  end
  return acc
end

local function fold(sum)
  sum = (sum >> 16) + (sum & 0xFFFF)
  sum = sum + (sum >> 16)
  return sum & 0xFFFF
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 6 then return false end
  if pkt.frag ~= 0 or pkt.mf ~= 0 then return false end
  local hlen = pkt.ihl * 4
  local tcplen = pkt.total - hlen
  if tcplen < 20 or pkt.total > #pkt then return false end
  local s = tostring(pkt:segment(hlen, tcplen))
  local sum = pkt.s1 + pkt.s2 + pkt.d1 + pkt.d2 + 6 + tcplen
  sum = sum_range(s, 1, #s, sum)
  return fold(sum) == 0xFFFF
end
