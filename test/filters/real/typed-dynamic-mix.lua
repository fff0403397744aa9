-- typed-dynamic-mix.lua: a header filter with a dynamic corner. The fast
-- path is typed: IPv4/IPv6 TCP to or from ports 80, 443 or 8000 passes on
-- header fields alone. Only for other TCP ports does the filter look at
-- the payload, keeping a small table of the first payload words seen per
-- port and accepting a payload whose first word was seen before on that
-- port (a protocol "learned" from traffic). Everything else is rejected.
--
-- Style: integer-only header code next to dynamic code in the same
-- function: a table of arrays keyed by port, `#list`, strings compared,
-- a value that is a string or nil.
local data = require'data'

local FAST = { [80] = true, [443] = true, [8000] = true }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ sport = {0, 16}, dport = {16, 16}, doff = {96, 4} }

local learned = {}

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
  if FAST[seg.sport] or FAST[seg.dport] then return true end
  -- the dynamic corner
  local body = seg:segment(seg.doff * 4)
  if body == nil then return false end
  local word = tostring(body):match('^(%u[%u%-]+)[ :/]')
  if word == nil then return false end
  local port = math.min(seg.sport, seg.dport)
  local list = learned[port]
  if list == nil then
    learned[port] = { word }
    return false
  end
  for i = 1, #list do
    if list[i] == word then return true end
  end
  if #list < 8 then list[#list + 1] = word end
  return false
end
