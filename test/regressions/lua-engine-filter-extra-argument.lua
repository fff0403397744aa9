-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- a bug of the Lua engine, not the compiler: runtime/engine/lua.ts calls
-- f(view, unpack('<i8', tsmeta, pos)), and string.unpack returns the next position too, so
-- filter gets a third argument (a number) where DESIGN.md passes only (pkt, time).
-- expected (compiled, and Lua with two arguments): accept
-- actual (lua engine): reject (extra == 9)
-- repeat: 1
-- packet: 00
function filter(pkt, time, extra)
  return extra == nil
end
