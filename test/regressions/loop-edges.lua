-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- numeric for at the integer limits (no wrap-around), float steps, a zero step (error), and
-- module state changed before an error that persists to the next call.
-- repeat: 6
-- packet: 
-- packet: 0300
local n = -1
local s = 0
function filter(pkt)
  n = n + 1
  local k = n % 6
  if k == 0 then
    local c = 0
    for i = math.maxinteger - 2, math.maxinteger do c = c + 1 end
    for i = math.mininteger, math.mininteger + 2, -1 do c = c + 100 end
    return c == 3
  elseif k == 1 then
    local y = 0.0
    for i = 1.0, 0.0, -0.25 do y = y + i end
    return y == 2.5
  elseif k == 2 then
    local c = 0
    for i = 1, #pkt, 0 do c = c + 1 end   -- 'for' step is zero
    return c > 0
  elseif k == 3 then
    s = s + 1
    if #pkt > 0 then error('after the increment') end
    return true
  elseif k == 4 then
    return s == 2
  end
  local c = 0
  for i = 10, 1, -3 do c = c + i end
  return c == 22
end
