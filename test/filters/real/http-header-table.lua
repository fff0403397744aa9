-- http-header-table.lua: accept HTTP requests whose headers, parsed into a
-- table, show a browser (a User-Agent naming Mozilla) that accepts gzip and
-- sends a Referer or Cookie; reject other requests and other traffic.
--
-- Style: a header block parsed with gmatch into a table keyed by
-- lower-cased names (repeated headers joined with ", "), a record for the
-- request line; `or ''` defaults for values that may be nil; string.find
-- with plain = true.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local tcp = data.layout{ dport = {16, 16}, doff = {96, 4} }

local function parse_request(s)
  local head = s:match('^(.-)\r\n\r\n') or s
  local req = { headers = {} }
  local first = true
  for line in (head .. '\r\n'):gmatch('(.-)\r\n') do
    if first then
      req.method, req.target, req.version = line:match('^(%a+) (%S+) (HTTP/%d%.%d)$')
      if not req.method then return nil end
      first = false
    else
      local name, value = line:match('^([%w%-]+):%s*(.-)%s*$')
      if name then
        name = name:lower()
        local old = req.headers[name]
        req.headers[name] = old and (old .. ', ' .. value) or value
      end
    end
  end
  if first then return nil end
  return req
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if seg == nil or seg:layout(tcp).doff == nil then return false end
  local body = seg:segment(seg.doff * 4)
  if body == nil then return false end
  local req = parse_request(tostring(body))
  if req == nil then return false end
  local h = req.headers
  local ua = h['user-agent'] or ''
  local enc = h['accept-encoding'] or ''
  return ua:find('Mozilla/', 1, true) ~= nil
     and enc:lower():find('gzip', 1, true) ~= nil
     and (h.referer ~= nil or h.cookie ~= nil)
end
