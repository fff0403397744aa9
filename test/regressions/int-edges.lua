-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- integer edges on run-time values: mininteger // -1, % -1, shifts by 63/64/-1/-64, floor division
-- and modulo with negative operands, division by zero (error). The counter picks the case.
-- repeat: 12
-- packet: 8000000000000000ffffffffffffffff
-- packet: 7ffffffffffffffffffffffffffffff9
-- packet: fffffffffffffff90000000000000000
local data = require'data'
local P = data.layout{ a = {0, 64}, b = {64, 64} }
local n = -1
function filter(pkt)
  n = n + 1
  local k = n % 12
  local a, b = pkt:layout(P).a, pkt:layout(P).b
  if k == 0 then return a // b < 0 end
  if k == 1 then return a % b == 0 end
  if k == 2 then return (a << 63) == math.mininteger end
  if k == 3 then return (a >> 64) == 0 and (a << 64) == 0 end
  if k == 4 then return (a >> -1) == (a << 1) end
  if k == 5 then return (a << -64) == 0 end
  if k == 6 then return (a // 7) * 7 + a % 7 == a end
  if k == 7 then return (-7) // 2 == -4 and (-7) % 2 == 1 and 7 % -2 == -1 end
  if k == 8 then return a * b < 0 end
  if k == 9 then return a < 9.2233720368547758e18 and a >= -9.2233720368547758e18 end
  if k == 10 then return (a - 1) > a end
  return 1 // b > 0   -- b == 0 on the third packet: an error
end
