-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- found by the property generator: the and/or idiom on floats
-- expected (lua): packet 1 (0 bytes) accept, packet 2 (4 bytes) reject
-- was (wasm): compile fails at stage ir: "compiler error: internal: cannot convert dyn to float"; fixed
-- repeat: 1
-- packet: 
-- packet: 01020304
function filter(pkt)
  local y = (#pkt > 2 and 1.5 or 2.5)
  return y == 2.5
end
