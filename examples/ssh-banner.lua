-- ssh-banner.lua: accept TCP packets whose payload starts with an SSH
-- protocol version exchange ("SSH-2.0-OpenSSH_7.8\r\n", RFC 4253 §4.2),
-- reject everything else.  Useful to log which clients and servers talk on
-- a network without keeping the (encrypted) rest of each session.
--
-- tshark:  `ssh.protocol` (tshark decodes SSH on port 22 only; this filter
--          looks at every TCP port)
-- libpcap has no string matching; the nearest is a prefix test on the first
-- four payload bytes: `tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x5353482d` ("SSH-").
--
--   IPv4: protocol 6, not a non-first fragment, TCP header at IHL * 4;
--   IPv6: next header 6 directly after the fixed 40-byte header;
--   TCP payload at the data offset (header length in 32-bit words) * 4.
-- The banner is "SSH-" protoversion "-" softwareversion, both made of
-- printable characters other than '-' (the RFC says US-ASCII printable,
-- no space or minus in the versions).
local data = require'data'

local TCP = 6
local BANNER = '^SSH%-[^-%G]+%-[^-%G]+'
local MAX_BANNER = 255           -- RFC 4253: at most 255 characters incl. CR LF

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local tcp = data.layout{ data_offset = {96, 4} }
local payload_start = data.layout{ magic = {0, 4, 'string'} }

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
  local data_offset = segment:layout(tcp).data_offset
  if data_offset == nil then return false end          -- truncated TCP header
  local payload = segment:segment(data_offset * 4)     -- nil: no payload
  if payload == nil or payload:layout(payload_start).magic ~= 'SSH-' then
    return false
  end
  -- only the first line can be the banner; don't copy a whole jumbo segment
  local head = tostring(payload:segment(0, math.min(#payload, MAX_BANNER)))
  return head:match(BANNER) ~= nil
end
