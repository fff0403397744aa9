-- ids-signatures.lua: a small intrusion-detection signature set.
--
-- Every TCP and UDP payload is checked against a table of signatures:
-- plain substrings (found with string.find's plain mode, no pattern
-- magic) and a few Lua patterns. A packet matching any of them is
-- rejected; everything else passes. The set mixes classic attack strings
-- with policy signatures that the corpus captures do contain: old SSH
-- versions, unwanted HTTP clients, a DNS name in wire format (length-
-- prefixed labels), a TLS SNI, SSDP discovery.
--
-- tshark: the packets rejected are
--   !icmp && !icmpv6 && (tcp.payload contains "..." || udp.payload contains "..." || ... matches "...")
-- (test/independent/stateful-tshark.py builds the expression from the same
-- signatures, the Lua patterns rewritten as PCRE by hand).
--
--   IPv4: not a non-first fragment, transport header at IHL * 4;
--   IPv6: TCP/UDP next header directly after the fixed 40-byte header;
--   payload: after the TCP header (data offset * 4) or the 8-byte UDP
--   header, to the end of the captured packet. A cut header: no payload.
local data = require'data'

-- plain substrings, looked up as a constant set
local SIGNATURES = {
  ['/etc/passwd'] = true,
  ['cmd.exe'] = true,
  ['/bin/sh -c'] = true,
  ['<script>alert('] = true,
  ['() { :; };'] = true,                     -- Shellshock
  ['${jndi:'] = true,                        -- Log4Shell
  ['SSH-2.0-Cisco-1.25'] = true,             -- device banners we do not allow
  ['SSH-1.5-1.2.26'] = true,
  ['OpenSSH_5.3'] = true,
  ['User-Agent: Wget/'] = true,              -- scripted downloads
  ['Konqueror/3.5'] = true,
  ['\7tcpdump\3org\0'] = true,               -- DNS name www.tcpdump.org
  ['ssl.gstatic.com'] = true,                -- TLS SNI / DNS name
  ['M-SEARCH * HTTP/1.1'] = true,            -- SSDP discovery
}

-- Lua patterns, tried in order
local PATTERNS = {
  'SSH%-1%.%d+%-',                           -- any SSH protocol 1 banner
  'User%-Agent: [^\r\n]*Gecko/2004%d%d%d%d',  -- 2004 Mozilla builds
  '^GET [^ ]*%.exe HTTP/1%.[01]\r\n',
  'union%s+select%s',
}

local TCP, UDP = 6, 17

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local tcp = data.layout{ data_offset = {96, 4} }

-- The TCP or UDP payload of pkt as a string, or nil.
local function payload(pkt)
  local protocol, segment
  local version = pkt:layout(ipv4).version
  if version == 4 then
    if pkt.fragment_offset ~= 0 then return nil end
    protocol, segment = pkt.protocol, pkt:segment(pkt.ihl * 4)
  elseif version == 6 then
    protocol, segment = pkt:layout(ipv6).next_header, pkt:segment(40)
  end
  if segment == nil then return nil end
  local body
  if protocol == TCP then
    local offset = segment:layout(tcp).data_offset
    if offset == nil then return nil end
    body = segment:segment(offset * 4)
  elseif protocol == UDP then
    body = segment:segment(8)
  end
  if body == nil then return nil end
  return tostring(body)
end

function filter(pkt)
  local s = payload(pkt)
  if s == nil then return true end
  for signature in pairs(SIGNATURES) do
    if string.find(s, signature, 1, true) then return false end
  end
  for _, pattern in ipairs(PATTERNS) do
    if s:find(pattern) then return false end
  end
  return true
end
