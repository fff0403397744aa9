-- dns-blocklist.lua: drop DNS queries for blocked domains and their
-- subdomains (a DNS sinkhole in the packet path), pass everything else.
--
-- tshark: the packets rejected are
--   udp.dstport == 53 && dns.flags.response == 0 &&
--   dns.qry.name matches "(?i)(^|\\.)(example\\.com|tcpdump\\.org|...)$"
-- libpcap cannot express it (names are variable-length label sequences).
--
--   IPv4: protocol 17, not a non-first fragment, UDP header at IHL * 4;
--   IPv6: next header 17 directly after the fixed 40-byte header;
--   UDP destination port 53, DNS header (12 bytes) with QR = 0 (a query)
--   and at least one question; the first question's QNAME is decoded
--   label by label and compared, lower-cased, with the blocklist, first
--   as a whole and then each parent domain (www.x.example.com is blocked by
--   example.com).
-- Anything the filter cannot decode (a truncated name, a compression
-- pointer, which a query has no reason to use) is passed: a blocklist
-- should not turn into a firewall for malformed packets.
local data = require'data'

local BLOCKED = {
  ['example.com'] = true,
  ['tcpdump.org'] = true,
  ['google-analytics.com'] = true,
  ['googlesyndication.com'] = true,
  ['ynet.co.il'] = true,
  ['cybercity.dk'] = true,
  ['whatsapp.net'] = true,
}

local UDP, DNS_PORT = 17, 53
local DNS_HEADER = 12
local MAX_NAME = 255             -- RFC 1035 §2.3.4, wire length incl. length bytes

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local udp = data.layout{ destination = {16, 16} }
local dns = data.layout{ qr = {16, 1}, qdcount = {32, 16} }

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

-- The first question's name of DNS message string `msg`, lower case and
-- dot-separated ("www.example.com"), or nil if it does not decode.
local function question_name(msg)
  local name = nil
  local pos = DNS_HEADER + 1                     -- 1-based string index
  while pos - DNS_HEADER <= MAX_NAME do
    local len = msg:byte(pos)
    if len == nil then return nil end            -- name runs past the packet
    if len == 0 then return name or '' end
    if len >= 0x40 then return nil end           -- compression pointer or reserved type
    local label = msg:sub(pos + 1, pos + len)
    if #label < len then return nil end
    if name then name = name .. '.' .. label:lower() else name = label:lower() end
    pos = pos + 1 + len
  end
  return nil                                     -- longer than a name can be
end

local function blocked(name)
  while name do
    if BLOCKED[name] then return true end
    name = name:match('^[^.]*%.(.+)$')           -- the parent domain, nil at the top
  end
  return false
end

function filter(pkt)
  local datagram = udp_segment(pkt)
  if datagram == nil or datagram:layout(udp).destination ~= DNS_PORT then return true end
  local message = datagram:segment(8)
  if message == nil then return true end
  message:layout(dns)
  if message.qr ~= 0 or message.qdcount == nil or message.qdcount == 0 then return true end
  local name = question_name(tostring(message))
  return not (name and blocked(name))
end
