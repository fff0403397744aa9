-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- a parenthesised call is one value (issue 13): `local a, b = (string.find('abc', 'b'))` gave b == 2
-- compiled; Lua truncates (f()) to its first value. Bare calls still expand.
-- repeat: 1
-- packet: 
local function two() return 1, 2 end
function filter(pkt)
  local n = 0
  local a, b = (string.find('abc', 'b'))
  if a == 2 and b == nil then n = n + 1 end
  local c, d = (two())
  if c == 1 and d == nil then n = n + 10 end
  local e, f = two()
  if f == 2 then n = n + 100 end
  local x, y = (string.match('ab', '(a)(b)'))
  if x == 'a' and y == nil then n = n + 1000 end
  local s, t = ( --[[ ) ]] string.find('abc', 'c') -- )
  )
  if t == nil then n = n + 10000 end
  return n == 11111
end
