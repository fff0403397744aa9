-- http-host-sessions.lua: per-client HTTP session tracking. For each
-- client address, remember the hosts it asked for (in order, up to 10)
-- and accept a request when its host was already visited by that client
-- (a returning visit: keep-alive reuse or a new connection); reject first
-- visits and non-requests.
--
-- Style: a table of records keyed by the client address formatted as a
-- string, each with an array of hosts and a set of hosts; table.insert
-- and table.remove to keep the array bounded (removing from the front),
-- table.concat for a summary string kept in the record.
local data = require'data'

local MAX = 10

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13}, src = {12, 4, 's'} }
local tcp = data.layout{ doff = {96, 4} }

local clients = {}

local function client(addr)
  local key = ('%d.%d.%d.%d'):format(addr:byte(1, -1))
  local c = clients[key]
  if not c then
    c = { order = {}, hosts = {}, summary = '' }
    clients[key] = c
  end
  return c
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 6 or pkt.frag ~= 0 or not pkt.src then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or not seg:layout(tcp).doff then return false end
  local body = seg:segment(seg.doff * 4)
  if not body then return false end
  local s = tostring(body)
  if not s:find('^%u+ %S+ HTTP/1%.%d\r\n') then return false end
  local host = s:match('\r\nHost:%s*([^\r\n:]+)')
  if not host then return false end
  host = host:lower()
  local c = client(pkt.src)
  if c.hosts[host] then return true end
  table.insert(c.order, host)
  c.hosts[host] = true
  if #c.order > MAX then
    local old = table.remove(c.order, 1)
    c.hosts[old] = nil
  end
  c.summary = table.concat(c.order, ',')
  return false
end
