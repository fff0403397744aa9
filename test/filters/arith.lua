-- Integer and float arithmetic with Lua 5.4 semantics on packet values:
-- floor division and modulo with negative operands, shifts past 63,
-- bitwise operators, float division, exact int/float comparison, and a
-- division by zero that must be a runtime error (rejecting the packet).
local data = require'data'
local f = data.layout{ a = {0, 16}, b = {16, 16, 'n', 'l'}, c = {32, 64}, d = {8, 4} }

function filter(pkt)
  pkt:layout(f)
  local a, b = pkt.a, pkt.b
  if a == nil or b == nil then return false end
  local x = (a - 40000) // (b % 13 - 6)          -- errors when b % 13 == 6
  local y = (a ~ b) << (b % 70) >> (a % 3)
  local z = a / (b + 1) + 0.5
  local c = pkt.c
  if c ~= nil then
    y = y + (c // 3) + (c % -7) + (c >> 63)
  end
  local w = math.max(a, b) - math.min(a, b) + math.abs(x)
  if z > 1.5 and y % 2 == 0 then return true end
  if w == z then return true end
  return (x + y + w) % 5 == pkt.d % 5
end
