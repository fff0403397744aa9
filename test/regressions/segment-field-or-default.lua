-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- found by the property generator: a field of a possibly nil segment, defaulted with `or`
-- expected (lua): packet 1 (0 bytes: segment nil -> error "attempt to index a nil value") error,
--                 packet 2 (3 bytes, byte 1 = 05) reject, packet 3 (3 bytes, byte 1 = 00) accept
-- was (wasm): compile fails at stage ir: "compiler error: internal: cannot convert dyn to int"; fixed
-- repeat: 1
-- packet: 
-- packet: 000500
-- packet: 000000
local data = require'data'
local L1 = data.layout{ a = {0, 8} }
function filter(pkt)
  local x = (pkt:segment(1, 2):layout(L1).a or 0)
  return x == 0
end
