-- tls-sni-blocklist.lua: drop TLS ClientHellos whose server name (SNI)
-- is a blocked domain or below one, pass everything else.
--
-- tshark: the packets rejected are
--   tcp && tls.handshake.type == 1 &&
--   tls.handshake.extensions_server_name matches "(?i)(^|\.)(google\.com|...)$"
-- libpcap cannot express it (the extension sits after variable-length fields).
--
--   IPv4: protocol 6, not a non-first fragment, TCP header at IHL * 4;
--   IPv6: next header 6 directly after the fixed 40-byte header;
--   the TCP payload starts with a handshake record (type 22) holding a
--   ClientHello (type 1); after the random come the session id, cipher
--   suites and compression methods (each with its length), then the
--   extensions, walked one by one until server_name (type 0), whose first
--   entry (name type 0: host_name) is the name.
-- A ClientHello cut short (split over segments) is passed: only what the
-- packet holds is looked at.
local data = require'data'

local TCP = 6
local HANDSHAKE, CLIENT_HELLO, SERVER_NAME = 22, 1, 0
local BLOCKED = {
  ['google.com'] = true,
  ['gstatic.com'] = true,
  ['facebook.com'] = true,
  ['apple.com'] = true,
}

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local tcp = data.layout{ data_offset = {96, 4} }
local record = data.layout{ content_type = {0, 8}, handshake_type = {40, 8} }
local u8 = data.layout{ value = {0, 8} }
local u16 = data.layout{ value = {0, 16} }

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

-- big-endian integers at byte offset `o` of view `d`; nil past its end
local function byte_at(d, o)
  local s = d:segment(o, 1)
  if s == nil then return nil end
  return s:layout(u8).value
end
local function short_at(d, o)
  local s = d:segment(o, 2)
  if s == nil then return nil end
  return s:layout(u16).value
end

-- The host name of the server_name extension of ClientHello body `hello`.
local function server_name(hello)
  local pos = 34                                 -- client_version (2) + random (32)
  local sid = byte_at(hello, pos)
  if sid == nil then return nil end
  pos = pos + 1 + sid
  local suites = short_at(hello, pos)
  if suites == nil then return nil end
  pos = pos + 2 + suites
  local compression = byte_at(hello, pos)
  if compression == nil then return nil end
  pos = pos + 1 + compression
  local total = short_at(hello, pos)
  if total == nil then return nil end
  pos = pos + 2
  local stop = pos + total
  while pos + 4 <= stop do
    local kind, len = short_at(hello, pos), short_at(hello, pos + 2)
    if kind == nil or len == nil then return nil end
    if kind == SERVER_NAME then
      -- server_name_list length (2), name_type (1), name length (2), name
      if byte_at(hello, pos + 6) ~= 0 then return nil end
      local n = short_at(hello, pos + 7)
      if n == nil then return nil end
      local name = hello:segment(pos + 9, n)
      if name == nil then return nil end
      return tostring(name)
    end
    pos = pos + 4 + len
  end
  return nil
end

local function blocked(name)
  while name do
    if BLOCKED[name] then return true end
    name = name:match('^[^.]*%.(.+)$')           -- the parent domain, nil at the top
  end
  return false
end

function filter(pkt)
  local segment = tcp_segment(pkt)
  if segment == nil then return true end
  local data_offset = segment:layout(tcp).data_offset
  if data_offset == nil then return true end
  local payload = segment:segment(data_offset * 4)
  if payload == nil then return true end
  payload:layout(record)
  if payload.content_type ~= HANDSHAKE or payload.handshake_type ~= CLIENT_HELLO then return true end
  local hello = payload:segment(9)               -- record header (5) + handshake header (4)
  if hello == nil then return true end
  local name = server_name(hello)
  return not (name and blocked(name:lower()))
end
