-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- the and/or idiom and `or` defaults with run-time conditions whose arms differ in kind:
-- integer/float, number/string, number/nil/false, a field defaulted with a float or a string.
-- The counter picks the case.
-- repeat: 8
-- packet: 
-- packet: 07
-- packet: 0000
local data = require'data'
local L = data.layout{ a = {0, 8}, b = {8, 8} }
local n = -1
function filter(pkt)
  n = n + 1
  local k = n % 8
  pkt:layout(L)
  if k == 0 then local x = #pkt > 1 and 4 or 2.5 return x == 4 end
  if k == 1 then local x = #pkt > 0 and 'yes' or 7 return x == 'yes' end
  if k == 2 then local x = (#pkt > 1 and nil or 3) return x == nil end
  if k == 3 then local x = (pkt.a or 1.5) return x == 1.5 end
  if k == 4 then local x = (pkt.b or 'none') return x == 'none' end
  if k == 5 then local x = (pkt.a and pkt.a > 3 and pkt.a or false) return x == 7 end
  if k == 6 then local x = (pkt.a or pkt.b or -1) + 1 return x == 0 end
  return ((pkt.a or 0) > 5 and 1.0 or 2) == 1
end
