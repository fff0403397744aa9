-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- a parenthesised call is one value where a bare one would give a list, and so compiles:
-- as the last argument, as pcall's results, as a return value of a helper.
-- repeat: 1
-- packet: 
-- packet: 00
local function two() return 1, 2 end
local function cnt(a, b) if b == nil then return 1 end return 2 end
local function first(s) return (s:find('b')) end
function filter(pkt)
  local n = 0
  if cnt((two())) == 1 then n = n + 1 end
  local ok, e = (pcall(two))
  if ok and e == nil then n = n + 10 end
  local i, j = first('abc')
  if i == 2 and j == nil then n = n + 100 end
  return n == 111 and #pkt == 0
end
