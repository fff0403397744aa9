-- http-request.lua: accept the TCP segments that start an HTTP/1.x request
-- (a known method, a request line ending in "HTTP/1.0" or "HTTP/1.1") for a
-- host in a watch list or below it, and reject everything else -- e.g. to
-- record the requests that go to a few news sites.
--
-- tshark: `tcp && http.request.method in {...} && http.host matches
--          "(?i)(^|\.)(bbc\.co\.uk|...)(:[0-9]+)?$"` (with re-assembly off)
-- libpcap cannot express it (no string matching).
--
--   IPv4: protocol 6, not a non-first fragment, TCP header at IHL * 4;
--   IPv6: next header 6 directly after the fixed 40-byte header;
--   the payload (at the TCP data offset) starts with the request line;
--   the Host header is looked for in the header block only (up to the
--   first empty line), its name in any letter case, its port dropped, and
--   the name compared lower-cased, then each parent domain.
local data = require'data'

local TCP = 6
local METHODS = {
  GET = true, HEAD = true, POST = true, PUT = true, DELETE = true,
  OPTIONS = true, PATCH = true, CONNECT = true, TRACE = true,
}
local WATCHED = {
  ['bbc.co.uk'] = true,
  ['bbci.co.uk'] = true,
  ['ynet.co.il'] = true,
  ['microsoft.com'] = true,
  ['googlesyndication.com'] = true,
}

local ipv4 = data.layout{
  version = {0, 4}, ihl = {4, 4}, fragment_offset = {51, 13}, protocol = {72, 8},
}
local ipv6 = data.layout{ version = {0, 4}, next_header = {48, 8} }
local tcp = data.layout{ data_offset = {96, 4} }

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

local function watched(host)
  while host do
    if WATCHED[host] then return true end
    host = host:match('^[^.]*%.(.+)$')           -- the parent domain, nil at the top
  end
  return false
end

function filter(pkt)
  local segment = tcp_segment(pkt)
  if segment == nil then return false end
  local data_offset = segment:layout(tcp).data_offset
  if data_offset == nil then return false end
  local payload = segment:segment(data_offset * 4)
  if payload == nil then return false end
  local text = tostring(payload)                 -- a view: nothing is copied
  local method = text:match('^(%u+) [^ \r\n]+ HTTP/1%.[01]\r\n')
  if method == nil or not METHODS[method] then return false end
  local head_end = text:find('\r\n\r\n', 1, true)
  local head = head_end and text:sub(1, head_end + 1) or text
  local host = head:match('\r\n[Hh][Oo][Ss][Tt]:[ \t]*([^\r\n]*)')
  if host == nil then return false end
  host = host:match('^[^:%s]+')                  -- drop the port and trailing blanks
  return host ~= nil and watched(host:lower())
end
