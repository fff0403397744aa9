-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- found by npm run fuzz (seeds 11 and 12, shrunk by hand): a float numeric for whose start, limit
-- or step is NaN runs its body once in Lua 5.4 (forprep skips the loop only when `limit < init`,
-- false for NaN; the next floatforloop test `idx <= limit` then ends it). Counts 1 + 2 + 4 = 7.
-- An integer start with a NaN limit runs zero times (forlimit), which is case 8.
-- expected (lua): accept
-- was (wasm): reject (the compiled loop tested `init <= limit` up front and skipped the body); fixed
-- repeat: 1
-- packet: 
function filter(pkt)
  local nan = (#pkt + 0.0) / 0   -- 0/0 at run time: NaN
  local c = 0
  for i = nan, 1.0 do c = c + 1 end
  for i = 0.0, nan do c = c + 2 end
  for i = 1.0, 0.0, nan do c = c + 4 end
  for i = 1, nan do c = c + 8 end
  return c == 7
end
