-- varargs-helpers.lua: accept TCP/UDP packets to or from a service port
-- (DNS, HTTP, HTTPS, SIP, NTP) whose payload is non-empty, or whose source
-- and destination ports are both ephemeral; reject the rest.
--
-- Style: variadic helpers: any(x, ...) and count(...) walk their
-- arguments with select('#', ...) and select(i, ...) (nil arguments
-- counted), table.pack / table.unpack round trips, a vararg passed on to
-- another vararg function, `...` in a table constructor.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16} }

local function any(x, ...)
  for i = 1, select('#', ...) do
    if x == select(i, ...) then return true end
  end
  return false
end

local function count_non_nil(...)
  local n = 0
  local args = table.pack(...)
  for i = 1, args.n do
    if args[i] ~= nil then n = n + 1 end
  end
  return n
end

local function is_service(port)
  return any(port, 53, 80, 443, 5060, 123)
end

local function all_above(limit, ...)
  local list = { ... }
  if #list == 0 then return false end
  for _, v in ipairs(list) do
    if v <= limit then return false end
  end
  return true
end

local function endpoints(pkt)
  local v = pkt:layout(ip4).version
  local seg, proto
  if v == 4 and pkt.frag == 0 then proto, seg = pkt.proto, pkt:segment(pkt.ihl * 4)
  elseif v == 6 then proto, seg = pkt:layout(ip6).next, pkt:segment(40) end
  if seg == nil or (proto ~= 6 and proto ~= 17) then return nil end
  seg:layout(ports)
  return seg.sport, seg.dport, #seg
end

function filter(pkt)
  local sport, dport, len = endpoints(pkt)
  if count_non_nil(sport, dport) < 2 then return false end
  if any(true, is_service(sport), is_service(dport)) then return len > 20 end
  return all_above(32767, table.unpack({ sport, dport }))
end
