-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- Lua evaluates every operand and value before it assigns, left to right. Compiled code kept small
-- values as expressions recomputed where used, so `a, b = b, a` assigned b to both, an
-- int-or-float `x = x * 0.5` stored the new tag before computing the payload from the old one,
-- and `g + f()` / `local a, b = g, f()` read g after f had changed it.
-- repeat: 8
-- packet: 
-- packet: 0102030405060708
local g = 1
local t = {}
local function f() g = 10; return 0 end
local function two() g = 20; return 1, 2 end
local n = -1
function filter(pkt)
  n = n + 1
  local k = n % 8
  g = 1
  if k == 0 then
    local a, b = #pkt, 7
    a, b = b, a
    return a == 7 and b == #pkt
  elseif k == 1 then
    local x, y, z = 1, 2.5, #pkt
    if #pkt > 4 then x = 0.5 end
    x, y, z = y, z, x                                   -- rotate through an int-or-float
    return y == #pkt and z == (#pkt > 4 and 0.5 or 1) and x == 2.5
  elseif k == 2 then
    local x = 1
    if #pkt > 4 then x = 3.0 end
    x = x * 0.5
    return x == (#pkt > 4 and 1.5 or 0.5)
  elseif k == 3 then
    local x = g + f()                                   -- g read before f runs
    return x == 1 and g == 10
  elseif k == 4 then
    local a, b = g, f()
    return a == 1 and b == 0 and g == 10
  elseif k == 5 then
    local a, b, c = g, two()
    return a == 1 and b == 1 and c == 2
  elseif k == 6 then
    g, t[g] = 5, 'old key'                              -- the key is g's value before the assignment
    return t[1] == 'old key' and t[5] == nil and g == 5
  end
  return g == 1 and (g < f() + 2) and g == 10
end
