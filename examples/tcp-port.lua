-- tcp-port.lua: accept TCP packets to or from the SSH and HTTP ports.
--
-- libpcap/tcpdump: `tcp port 22 or tcp port 80`
-- tshark:          `tcp.port in {22, 80}` (but see below for fragments and
--                  ICMP errors, where tshark's fields differ)
--
-- Semantics follow libpcap's `tcp port N`:
--   IPv4: protocol 6, not a non-first fragment (13-bit fragment offset 0),
--         TCP header at the IPv4 header length (IHL * 4, as given);
--   IPv6: next header 6 directly after the fixed 40-byte header (libpcap
--         does not walk extension headers for ports).
-- A port lookup in a constant set table keeps the check one load away, and
-- adding a port is a one-line change.
local data = require'data'

local PORTS = { [22] = true, [80] = true }

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local tcp = data.layout{ source = {0, 16}, destination = {16, 16} }

local TCP = 6

-- The TCP segment of `pkt`, or nil when pkt is not a (first-fragment) TCP packet.
local function tcp_segment(pkt)
  local version = pkt:layout(ipv4).version
  if version == 4 then
    if pkt.protocol ~= TCP or pkt.fragment_offset ~= 0 then return nil end
    return pkt:segment(pkt.ihl * 4)
  elseif version == 6 then
    if pkt:layout(ipv6).next_header ~= TCP then return nil end
    return pkt:segment(40)
  end
  return nil
end

function filter(pkt)
  local segment = tcp_segment(pkt)
  if segment == nil then return false end
  segment:layout(tcp)
  -- a truncated header gives nil ports, and PORTS[nil] is an error: test first
  local source, destination = segment.source, segment.destination
  if source ~= nil and PORTS[source] then return true end
  if destination ~= nil and PORTS[destination] then return true end
  return false
end
