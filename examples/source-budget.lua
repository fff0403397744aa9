-- source-budget.lua: at most BUDGET packets per source address; the rest
-- of each source's packets are rejected.
--
-- A blunt flood guard: the first BUDGET packets from every IPv4 or IPv6
-- source address pass, later ones are dropped. Packets without a source
-- address (ARP, a header cut before the address, anything not IP) are not
-- counted and pass. The counters are per address: IPv4 addresses are
-- integer keys (the 32-bit field), IPv6 addresses 16-byte string keys.
-- At most MAX_SOURCES addresses are tracked; a new one evicts the one seen
-- first (its count starts over if it comes back), so memory stays bounded.
--
-- tshark (cross-check, no eviction below MAX_SOURCES addresses):
--   tshark -T fields -E occurrence=f -e ip.src -e ipv6.src, then awk
--   counting each address and accepting its first BUDGET packets.
local data = require'data'

local BUDGET = 20
local MAX_SOURCES = 1000

local ipv4 = data.layout{ version = {0, 4}, source = {96, 32} }
local ipv6 = data.layout{ version = {0, 4}, source = {8, 16, 'string'} }

local count = {}      -- source -> packets seen
local order = {}      -- sources in the order they were first seen

local function source_of(pkt)
  local version = pkt:layout(ipv4).version
  if version == 4 then return pkt.source end
  if version == 6 then return pkt:layout(ipv6).source end
  return nil
end

function filter(pkt)
  local source = source_of(pkt)
  if source == nil then return true end
  local seen = count[source]
  if seen == nil then
    if #order >= MAX_SOURCES then
      count[table.remove(order, 1)] = nil
    end
    table.insert(order, source)
    seen = 0
  end
  seen = seen + 1
  count[source] = seen
  return seen <= BUDGET
end
