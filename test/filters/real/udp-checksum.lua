-- udp-checksum.lua: accept UDP datagrams (IPv4 or IPv6, no extension
-- headers) whose checksum verifies over the pseudo-header; reject bad
-- checksums, IPv4 datagrams sent without a checksum (0), cut or fragmented
-- datagrams, and everything that is not UDP.
--
-- Style: a checksum over Lua strings: the pseudo-header is built with
-- string.pack and concatenated with the datagram, summed by a helper that
-- takes the string and pads odd lengths; the per-version pseudo-header
-- builders sit in a table of functions indexed by IP version.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, mf = {50, 1}, frag = {51, 13}, proto = {72, 8},
                         src = {12, 4, 's'}, dst = {16, 4, 's'} }
local ip6 = data.layout{ plen = {32, 16}, next = {48, 8}, src = {8, 16, 's'}, dst = {24, 16, 's'} }
local udp = data.layout{ length = {32, 16}, checksum = {48, 16} }

local function ones_sum(s)
  if #s % 2 == 1 then s = s .. '\0' end
  local sum = 0
  for i = 1, #s, 2 do
    local hi, lo = s:byte(i, i + 1)
    sum = sum + hi * 256 + lo
  end
  while sum >> 16 ~= 0 do sum = (sum & 0xFFFF) + (sum >> 16) end
  return sum
end

local pseudo = {
  [4] = function(pkt, len)
    if pkt.proto ~= 17 or pkt.frag ~= 0 or pkt.mf ~= 0 then return nil end
    return pkt.src .. pkt.dst .. string.pack('>BBI2', 0, 17, len), pkt.ihl * 4
  end,
  [6] = function(pkt, len)
    pkt:layout(ip6)
    if pkt.next ~= 17 then return nil end
    return pkt.src .. pkt.dst .. string.pack('>I4I3B', len, 0, 17), 40
  end,
}

function filter(pkt)
  local builder = pseudo[pkt:layout(ip4).version]
  if builder == nil or pkt.src == nil then return false end
  local _, probe = builder(pkt, 0)
  if probe == nil then return false end
  local seg = pkt:segment(probe)
  if seg == nil or seg:layout(udp).length == nil then return false end
  local len = seg.length
  if len < 8 or len > #seg or seg.checksum == 0 then return false end
  local head = builder(pkt, len)
  local sum = ones_sum(head .. tostring(seg:segment(0, len)))
  return sum == 0xFFFF
end
