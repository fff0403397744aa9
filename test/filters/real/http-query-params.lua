-- http-query-params.lua: accept HTTP GET requests whose query string,
-- percent-decoded, has three parameters or more, or a parameter value that
-- is a URL (contains "://"); reject other requests and other traffic.
--
-- Style: gsub with a function as the replacement (tonumber(h, 16) and
-- string.char), gmatch splitting "k=v" pairs into a table, counting the
-- keys with pairs (order does not matter), a local helper passed to gsub.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local tcp = data.layout{ doff = {96, 4} }

local function unescape(s)
  s = s:gsub('%+', ' ')
  return (s:gsub('%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))
end

local function params(query)
  local t = {}
  for pair in query:gmatch('[^&]+') do
    local k, v = pair:match('^([^=]*)=?(.*)$')
    t[unescape(k)] = unescape(v)
  end
  return t
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or not seg:layout(tcp).doff then return false end
  local body = seg:segment(seg.doff * 4)
  if not body then return false end
  local target = tostring(body):match('^GET (%S+) HTTP/1%.%d\r\n')
  if not target then return false end
  local query = target:match('%?(.*)$')
  if not query or query == '' then return false end
  local n = 0
  for _, v in pairs(params(query)) do
    n = n + 1
    if v:find('://', 1, true) then return true end
  end
  return n >= 3
end
