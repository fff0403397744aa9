-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- found by the property generator: a nil-or-integer field defaulted with `or`
-- expected (lua): packet 1 (0 bytes: field nil, x = 3) accept, packet 2 (1 byte 07) reject
-- was (wasm): compile fails at stage ir: "compiler error: internal: cannot convert dyn to int"; fixed
-- repeat: 1
-- packet: 
-- packet: 07
local data = require'data'
local L1 = data.layout{ a = {0, 8} }
function filter(pkt)
  local x = (pkt:layout(L1).a or 3)
  return x == 3
end
