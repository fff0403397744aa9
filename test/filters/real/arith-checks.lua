-- arith-checks.lua: integer and float arithmetic sanity checks on IPv4
-- headers. Accept packets whose payload makes up more than 60% of the
-- datagram (a float ratio), whose TTL is a "typical" initial value minus
-- fewer than 32 hops (integer //, %), and whose identification is odd or
-- whose total length is a multiple of 4; reject the rest.
--
-- Style: `/` always giving a float, `//` and `%` on integers, integer vs
-- float comparison (`ratio > 0.6`, `hops == 0.0`), math.floor and
-- math.ceil, math.tointeger, math.max over several values, exponent `^`.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, total = {16, 16}, id = {32, 16}, ttl = {64, 8} }
local INITIAL = { 32, 64, 128, 255 }

local function hops(ttl)
  for _, init in ipairs(INITIAL) do
    if ttl <= init then return init - ttl end
  end
  return nil
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.total == nil or pkt.total == 0 then return false end
  local header = pkt.ihl * 4
  local ratio = (pkt.total - header) / pkt.total
  if ratio <= 0.6 then return false end
  local h = hops(pkt.ttl)
  if h == nil or h >= 2 ^ 5 then return false end
  local words = math.ceil(pkt.total / 4)
  local exact = math.tointeger(pkt.total / 4)
  local biggest = math.max(h, header, words // 8)
  if biggest < 0 then return false end
  return pkt.id % 2 == 1 or (exact ~= nil and exact * 4 == pkt.total and math.floor(ratio * 10) >= 6)
end
