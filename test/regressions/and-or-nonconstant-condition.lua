-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- found by the property generator: the and/or idiom `c and x or y` with a non-constant condition
-- expected (lua): packet 1 (1 byte) accept, packet 2 (3 bytes) reject
-- was (wasm): compile fails at stage ir: "compiler error: internal: cannot convert dyn to int" (checker accepted it); fixed
-- repeat: 1
-- packet: 00
-- packet: 000000
function filter(pkt)
  local x = (#pkt > 1 and 4 or 5)
  return x == 5
end
