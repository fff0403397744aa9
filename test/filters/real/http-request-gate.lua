-- http-request-gate.lua: an HTTP request gate. Accept TCP segments that
-- start an HTTP/1.x request with an allowed method, to an allowed host
-- (or a subdomain of one), whose path has no traversal and no script
-- extension; reject other requests and all other traffic.
--
-- Style: method and host sets as tables of strings, the request line
-- split by one pattern with three captures, the Host header found with a
-- case-insensitive pattern built from character sets, `:` method calls on
-- strings throughout, early returns.
local data = require'data'

local METHODS = { GET = true, HEAD = true, POST = false, OPTIONS = true }
local HOSTS = { 'ynet.co.il', 'google.com', 'googleusercontent.com', 'gstatic.com', 'exposebox.com', 'tcpdump.org' }
local DENY_PATH = { '%.%./', '%.php$', '%.asp$', '%.exe$' }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4} }

local function host_allowed(host)
  host = host:lower():gsub(':%d+$', '')
  for _, h in ipairs(HOSTS) do
    if host == h or host:sub(-(#h + 1)) == '.' .. h then return true end
  end
  return false
end

function filter(pkt)
  local seg
  local v = pkt:layout(ip4).version
  if v == 4 then
    if pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
    seg = pkt:segment(pkt.ihl * 4)
  elseif v == 6 then
    if pkt:layout(ip6).next ~= 6 then return false end
    seg = pkt:segment(40)
  end
  if seg == nil or seg:layout(tcp).doff == nil then return false end
  local body = seg:segment(seg.doff * 4)
  if body == nil then return false end
  local s = tostring(body)
  local method, target, minor = s:match('^(%u+) (%S+) HTTP/1%.(%d)\r\n')
  if not method or not METHODS[method] then return false end
  local host = s:match('\r\n[Hh][Oo][Ss][Tt]:[ \t]*([^\r\n]+)')
  if host == nil then return minor == '0' end        -- HTTP/1.0 may omit Host
  if not host_allowed(host) then return false end
  local path = target:match('^[^?#]*')
  for _, pat in ipairs(DENY_PATH) do
    if path:lower():find(pat) then return false end
  end
  return true
end
