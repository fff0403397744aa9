-- port-knock.lua: SSH opens only to sources that knocked first.
--
-- A source must send, in order, a TCP or UDP packet to each port of
-- KNOCKS (7000, 8000, 9000) before its packets to the SSH port (TCP 22)
-- pass. The knocks themselves are swallowed (the ports are closed), a
-- knock out of order starts the source over, and everything else passes.
-- The state is per source address: IPv4 addresses are integer keys (the
-- 32-bit field), IPv6 addresses 16-byte string keys.
--
-- tshark/libpcap cannot express it: the verdict depends on earlier packets.
--
--   IPv4: not a non-first fragment, transport header at IHL * 4;
--   IPv6: TCP/UDP next header directly after the fixed 40-byte header.
-- A packet whose ports are cut off is neither a knock nor SSH: it passes.
local data = require'data'

local KNOCKS = { 7000, 8000, 9000 }
local SSH_PORT = 22
local TCP, UDP = 6, 17

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8}, source = {96, 32},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8}, source = {8, 16, 'string'} }
local ports = data.layout{ destination = {16, 16} }

local progress = {}   -- source -> knocks done so far (absent: none)
local opened = {}     -- source -> true once the whole sequence was knocked

-- Where each knock port sits in the sequence, built once from KNOCKS.
local position = {}
for i, port in ipairs(KNOCKS) do position[port] = i end

-- source address, transport protocol and transport segment of pkt, or nil.
local function transport(pkt)
  local version = pkt:layout(ipv4).version
  if version == 4 then
    if pkt.fragment_offset ~= 0 or pkt.source == nil then return nil end
    return pkt.source, pkt.protocol, pkt:segment(pkt.ihl * 4)
  elseif version == 6 then
    pkt:layout(ipv6)
    if pkt.source == nil then return nil end
    return pkt.source, pkt.next_header, pkt:segment(40)
  end
  return nil
end

function filter(pkt)
  local source, protocol, segment = transport(pkt)
  if segment == nil or (protocol ~= TCP and protocol ~= UDP) then return true end
  local destination = segment:layout(ports).destination
  if destination == nil then return true end

  if protocol == TCP and destination == SSH_PORT then
    return opened[source] == true
  end
  local step = position[destination]
  if step == nil then return true end
  local done = progress[source] or 0
  if step == done + 1 then
    if step == #KNOCKS then
      opened[source] = true
      progress[source] = nil
    else
      progress[source] = step
    end
  elseif step ~= done then
    -- out of order (a repeated knock, e.g. a retransmission, keeps its place)
    progress[source] = nil
  end
  return false
end
