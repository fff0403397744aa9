-- Loops over packet bytes: a checksum-like sum of the first 64 bytes with
-- numeric for (both step signs), while, repeat-until, break and goto.
local data = require'data'
local byte = data.layout{ b = {0, 8} }

local function sum_bytes(pkt, n)
  local s = 0
  for i = 0, n - 1 do
    local seg = pkt:segment(i, 1)
    if seg == nil then break end
    s = s + seg:layout(byte).b
  end
  return s
end

local function count_down(n)
  local k = 0
  for i = n, 1, -2 do k = k + i end
  local j = 0
  while j < 3 do j = j + 1 end
  repeat k = k - 1 until k < 10
  return k + j
end

function filter(pkt)
  local n = #pkt
  if n == 0 then goto reject end
  do
    local s = sum_bytes(pkt, 64)
    if (s + count_down(n % 50)) % 7 == 3 then return true end
    if s // 5 % 2 == 1 then return s end
  end
  ::reject::
  return false
end
