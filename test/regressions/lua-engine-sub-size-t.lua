-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- a bug of the Lua engine, not the compiler: Wasmoon is a 32-bit Lua build whose string.sub
-- and string.byte cast indices to a 32-bit size_t, so 2^32 + k acts like k (2^32 itself like
-- 0: a read one byte before the string). Debian's lua5.4 and the compiled filter give ""
-- and nil (test/compiler-bounds-huge.test.ts checks the compiled side against lua5.4).
-- expected (lua5.4, compiled): reject
-- actual (lua engine): accept
-- repeat: 1
-- packet: 11223344
function filter(pkt)
  local s = tostring(pkt)
  local i = #s * 0 + 4294967297
  return s:sub(i, i) ~= '' or s:byte(i) ~= nil
end
