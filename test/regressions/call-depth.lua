-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree
-- call depth (docs/SEMANTICS.md): at most 150 calls of the script's functions in progress, then
-- 'stack overflow (more than 150 nested calls)' at the call, an error pcall catches. Each mode
-- recurses to 149, 150, 151, 300 and 30000 levels: plain, tail calls (counted), through pcall, with
-- non-recursive helpers at the bottom, mutual recursion, an overflow caught then the same depth
-- again, library calls in between (not counted), filter calling itself. The compiled engine
-- trapped between 10,000 and 20,000 levels, the interpreter went on to Lua's limit (issues 13, 15).
-- repeat: 2
-- packet: 000095
-- packet: 000096
-- packet: 000097
-- packet: 00012c
-- packet: 007530
-- packet: 010095
-- packet: 010096
-- packet: 010097
-- packet: 01012c
-- packet: 017530
-- packet: 020095
-- packet: 020096
-- packet: 020097
-- packet: 02012c
-- packet: 027530
-- packet: 030095
-- packet: 030096
-- packet: 030097
-- packet: 03012c
-- packet: 037530
-- packet: 040095
-- packet: 040096
-- packet: 040097
-- packet: 04012c
-- packet: 047530
-- packet: 050095
-- packet: 050096
-- packet: 050097
-- packet: 05012c
-- packet: 057530
-- packet: 060095
-- packet: 060096
-- packet: 060097
-- packet: 06012c
-- packet: 067530
-- packet: 070095
-- packet: 070096
-- packet: 070097
-- packet: 07012c
-- packet: 077530
-- packet: 080095
-- packet: 080096
-- packet: 080097
-- packet: 08012c
-- packet: 087530
local data = require'data'
local L = data.layout{ mode = {0, 8}, n = {8, 16} }
local function leaf(x) return x end
local function helper(x) return leaf(x) + 0 end         -- two more levels under the caller
local function down(n)
  if n <= 1 then return 1 end
  return 1 + down(n - 1)
end
local function tail(n)
  if n <= 1 then return 1 end
  return tail(n - 1)
end
local function deephelper(n)
  if n <= 1 then return helper(1) end
  return 1 + deephelper(n - 1)
end
function pong(n) if n <= 1 then return 1 end return ping(n - 1) + 0 end
function ping(n) if n <= 1 then return 1 end return pong(n - 1) + 0 end
local function viapcall(n)
  if n <= 1 then return end
  local ok = pcall(viapcall, n - 1)
  if not ok then error('caught below') end
end
local function catchandgo(n)
  -- the overflow caught at the bottom leaves the depth right: the same depth again works
  if pcall(down, n) then return 'whole' end
  if down(100) == 100 and pcall(down, 149) then return 'recovered' end
  return nil
end
local function strings(n)
  if n <= 1 then return #string.rep('x', 3) end
  local s = string.sub('abc', 2)                        -- library calls do not count
  return strings(n - 1) + #s - 2
end
function filter(pkt, time)
  if time < 0 then                                      -- filter calling itself counts too
    if time < -1 then return filter(pkt, time + 1) and true end
    return true
  end
  pkt:layout(L)
  local mode, n = pkt.mode, pkt.n
  if mode == 0 then return down(n) == n
  elseif mode == 1 then return tail(n) == 1
  elseif mode == 2 then return pcall(down, n)
  elseif mode == 3 then viapcall(n) return true
  elseif mode == 4 then return deephelper(n - 2) == n - 2  -- n - 2 levels, then helper and leaf
  elseif mode == 5 then return ping(n) == 1
  elseif mode == 6 then return catchandgo(n) == 'recovered'
  elseif mode == 7 then return strings(n) == 3
  end
  return filter(pkt, -n)
end
