-- icmp-echo.lua: accept ping traffic (ICMP echo request and reply), reject
-- everything else.
--
-- libpcap/tcpdump: `icmp[icmptype] == icmp-echo or icmp[icmptype] == icmp-echoreply
--                   or (ip6 and ip6[6] == 58 and (ip6[40] == 128 or ip6[40] == 129))`
-- tshark:          `icmp.type in {0, 8} || icmpv6.type in {128, 129}` on the
--                  outermost ICMP header only (tshark also shows the ICMP header
--                  quoted inside ICMP errors, and walks IPv6 extension headers)
--
--   IPv4: protocol 1, not a non-first fragment (only the first fragment holds
--         the ICMP header), ICMP header at IHL * 4, type 8 (echo request) or
--         0 (echo reply);
--   IPv6: next header 58 directly after the fixed 40-byte header (like
--         libpcap's `icmp6`, extension headers are not walked), type 128
--         (echo request) or 129 (echo reply).
local data = require'data'

local ICMP, ICMPV6 = 1, 58
local ECHO_V4 = { [0] = true, [8] = true }
local ECHO_V6 = { [128] = true, [129] = true }

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local icmp = data.layout{ type = {0, 8}, code = {8, 8} }

-- The ICMP type at the start of `segment`, or -1 when there is no segment.
local function icmp_type(segment)
  if segment == nil then return -1 end
  return segment:layout(icmp).type   -- one byte: present whenever segment is
end

function filter(pkt)
  local version = pkt:layout(ipv4).version
  if version == 4 then
    if pkt.protocol ~= ICMP or pkt.fragment_offset ~= 0 then return false end
    return ECHO_V4[icmp_type(pkt:segment(pkt.ihl * 4))] == true
  elseif version == 6 then
    if pkt:layout(ipv6).next_header ~= ICMPV6 then return false end
    return ECHO_V6[icmp_type(pkt:segment(40))] == true
  end
  return false
end
