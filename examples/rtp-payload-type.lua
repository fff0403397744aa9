-- rtp-payload-type.lua: accept RTP packets with the marker bit set whose
-- payload type is a dynamic one (96-127, RFC 3551 §6), i.e. the packets
-- that end a video frame or start an audio talk-spurt of a codec negotiated
-- by SDP (H.264, VP8, Opus, ...).  A media probe can count frames with it.
--
-- tshark (RTP is found heuristically, or on a known port with -d):
--   tshark -o rtp.heuristic_rtp:TRUE -Y 'rtp.version == 2 && rtp.marker == 1 && rtp.p_type >= 96'
-- libpcap: `udp and udp[8] & 0xc0 == 0x80 and udp[9] & 0x80 != 0 and udp[9] & 0x7f >= 96`
--          (IPv4 only: libpcap's udp[] does not apply to IPv6)
--
--   IPv4: protocol 17, not a non-first fragment, UDP header at IHL * 4;
--   IPv6: next header 17 directly after the fixed 40-byte header;
--   UDP header 8 bytes, RTP header right after it.
-- RTP has no port of its own (the ports are whatever SDP negotiated), so,
-- like tshark's heuristic, we only believe a header that is consistent:
-- both UDP ports unprivileged (>= 1024, which rules out DNS, NTP, NetBIOS),
-- version 2, and a payload long enough for the fixed header plus its CSRC
-- list.
local data = require'data'

local UDP = 17
local UDP_HEADER = 8
local RTP_HEADER = 12
local FIRST_DYNAMIC, LAST_DYNAMIC = 96, 127
local FIRST_UNPRIVILEGED = 1024

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local udp = data.layout{ source = {0, 16}, destination = {16, 16} }
-- DESIGN.md §1's RTP layout (RFC 3550 §5.1), bit offsets MSB-0
local rtp = data.layout{
  version = {0, 2}, padding = {2, 1}, extension = {3, 1}, csrc_count = {4, 4},
  marker = {8, 1}, type = {9, 7},
}

local function udp_segment(pkt)
  local version = pkt:layout(ipv4).version
  if version == 4 then
    if pkt.protocol ~= UDP or pkt.fragment_offset ~= 0 then return nil end
    return pkt:segment(pkt.ihl * 4)
  elseif version == 6 then
    if pkt:layout(ipv6).next_header ~= UDP then return nil end
    return pkt:segment(40)
  end
  return nil
end

function filter(pkt)
  local datagram = udp_segment(pkt)
  if datagram == nil then return false end
  datagram:layout(udp)
  local source, destination = datagram.source, datagram.destination
  if source == nil or destination == nil then return false end   -- truncated
  if source < FIRST_UNPRIVILEGED or destination < FIRST_UNPRIVILEGED then return false end
  local header = datagram:segment(UDP_HEADER)
  if header == nil or #header < RTP_HEADER then return false end
  header:layout(rtp)
  if header.version ~= 2 or #header < RTP_HEADER + 4 * header.csrc_count then
    return false
  end
  local payload_type = header.type
  return header.marker == 1 and payload_type >= FIRST_DYNAMIC and payload_type <= LAST_DYNAMIC
end
