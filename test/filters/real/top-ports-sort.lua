-- top-ports-sort.lua: accept TCP/UDP packets whose destination port is,
-- so far in the run, among the 3 most used destination ports; reject the
-- rest. The ranking is recomputed every 16 packets.
--
-- Style: an array of records { port, count } kept alongside an index
-- table, table.sort with a comparator closure (count descending, then
-- port ascending, so there are no ties), a set of the top ports rebuilt
-- from the sorted array, table.insert.
local data = require'data'

local TOP, EVERY = 3, 16

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local ports = data.layout{ dport = {16, 16} }

local stats, index, top, seen = {}, {}, {}, 0

local function by_count(a, b)
  if a.count ~= b.count then return a.count > b.count end
  return a.port < b.port
end

local function rerank()
  table.sort(stats, by_count)
  top = {}
  for i = 1, math.min(TOP, #stats) do top[stats[i].port] = true end
  for i, s in ipairs(stats) do index[s.port] = i end
end

function filter(pkt)
  local seg, proto
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.frag == 0 then proto, seg = pkt.proto, pkt:segment(pkt.ihl * 4)
  elseif v == 6 then proto, seg = pkt:layout(ip6).next, pkt:segment(40) end
  if seg == nil or (proto ~= 6 and proto ~= 17) then return false end
  local port = seg:layout(ports).dport
  if port == nil then return false end
  local i = index[port]
  if i == nil then
    table.insert(stats, { port = port, count = 0 })
    i = #stats
    index[port] = i
  end
  stats[i].count = stats[i].count + 1
  seen = seen + 1
  if seen % EVERY == 0 then rerank() end
  return top[port] == true
end
