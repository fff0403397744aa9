-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- found by npm run fuzz (seed 1026, shrunk by hand): constant folding of `^` loses the sign of
-- -0.0 (compiler/check.ts exactPow goes through BigInt: (-0.0)^1 and (-0.0)^3 fold to +0.0).
-- Lua: (-0.0)^1 == -0.0 and (-0.0)^3 == -0.0, so 1/x is -inf for both.
-- expected (lua): accept
-- was (wasm): reject; fixed
-- repeat: 1
-- packet: 
function filter(pkt)
  local a = (-0.0) ^ 1
  local b = (-0.0) ^ 3
  return 1 / a < 0 and 1 / b < 0
end
