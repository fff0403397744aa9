-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- the control variable of a numeric for is an ordinary local in Lua 5.4: the body may assign it
-- any value (the next iteration still takes the hidden counter). Assigning a float, a string or
-- nil to it made binaryen reject the module ("local.set's value type must be correct").
-- repeat: 7
-- packet: 
local n = -1
function filter(pkt)
  n = n + 1
  local k = n % 7
  local s = 0
  if k == 0 then
    for i = 1, 3 do i = i * 0.5; s = s + i end          -- integer loop, float assigned
    return s == 3.0 and math.type(s) == 'float'
  elseif k == 1 then
    local last
    for i = 1, 3 do i = 'x'; last = i end               -- a string
    return last == 'x'
  elseif k == 2 then
    for i = 1, 3 do i = nil; if i == nil then s = s + 1 end end
    return s == 3
  elseif k == 3 then
    for i = 3, 1, -1 do if i == 2 then i = 10.5 end s = s + i end
    return s == 14.5
  elseif k == 4 then
    for i = 1.0, 3 do i = i + 1; s = s + i end          -- float loop, still counts 1.0, 2.0, 3.0
    return s == 9.0
  elseif k == 5 then
    for i = 1, 3 do i = i + 1; s = s + i end            -- integer stays integer
    return s == 9 and math.type(s) == 'integer'
  end
  local t = 0
  for i = 1, 4 do
    if i == 2 or i == 4 then i = 'even' end
    if i == 'even' then t = t + 1 end
  end
  return t == 2
end
