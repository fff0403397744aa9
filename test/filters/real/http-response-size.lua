-- http-response-size.lua: accept HTTP responses with status 200 whose body
-- is announced larger than 2 KiB (Content-Length) or sent chunked, and
-- every 3xx redirect; reject other responses and other traffic.
--
-- Style: numbers parsed out of text. The status code is a captured string
-- compared after tonumber; Content-Length is used in arithmetic straight
-- from its capture (string-to-number coercion: `len * 1` and `len > ...`
-- after `+ 0`); the kilobyte figure is computed with `/` (a float) and
-- compared with an integer.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4} }

function filter(pkt)
  local seg
  if pkt:layout(ip4).version == 4 then
    if pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
    seg = pkt:segment(pkt.ihl * 4)
  elseif pkt.version == 6 and pkt:layout(ip6).next == 6 then
    seg = pkt:segment(40)
  end
  if not seg or not seg:layout(tcp).doff then return false end
  local body = seg:segment(seg.doff * 4)
  if not body then return false end
  local s = tostring(body)
  local code = s:match('^HTTP/1%.[01] (%d%d%d)')
  if code == nil then return false end
  local status = tonumber(code)
  if status >= 300 and status < 400 then return true end
  if status ~= 200 then return false end
  local head = s:match('^(.-\r\n)\r\n') or s
  if head:lower():find('transfer%-encoding:%s*chunked') then return true end
  local len = head:match('[Cc]ontent%-[Ll]ength:%s*(%d+)')
  if len == nil then return false end
  local kib = (len + 0) / 1024          -- the capture is a string: coerced
  return kib > 2 and len * 1 < 100000000
end
