-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- a folded `^` whose exponent is not 0, 1 or 2, used directly by a comparison, an arithmetic
-- operation and a return: lowering computed a*a for it (2^3 == 4), and -0.0 lost its sign.
-- repeat: 4
-- packet: 
local n = -1
function filter(pkt)
  n = n + 1
  if n % 4 == 0 then return 2 ^ 3 == 8 end
  if n % 4 == 1 then return 2 ^ 10 + 0 == 1024 and 3.0 ^ 5 < 244 and 3 ^ 5 > 242 end
  if n % 4 == 2 then return 1 / ((-0.0) ^ 5) < 0 and 1 / ((-0.0) ^ 2) > 0 and (-0.0) ^ 0 == 1 end
  return (-2) ^ 3 == -8 and 0 ^ 0 == 1
end
