-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- math.type on integers, floats, values that may be either (int-or-float arithmetic), nil
-- fields and strings; and filter's second parameter, the capture time (0 in this harness)
-- repeat: 5
-- packet: 
-- packet: 05
local data = require'data'
local L = data.layout{ a = {0, 8} }
local n = -1
function filter(pkt, time)
  n = n + 1
  local k = n % 5
  local x = pkt:layout(L).a
  if k == 0 then return math.type(#pkt) == 'integer' and math.type(1.5) == 'float' and math.type('1') == nil end
  if k == 1 then local y = x or 2.5 return math.type(y) == 'integer' end
  if k == 2 then return math.type(x) == nil end
  if k == 3 then local z = #pkt > 0 and 'x' or 1 return math.type(z) ~= 'integer' end
  return math.type(time) == 'integer' and time == 0
end
