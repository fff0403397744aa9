-- byte-histogram.lua: accept packets whose payload (after the IPv4 or
-- IPv6 header) is dominated by one byte value (over 40% of the bytes, at
-- least 32 bytes: padding, zero fill, repeated filler) or is all printable
-- ASCII; reject the rest. Only the first 256 bytes are looked at, to bound
-- the work per packet.
--
-- Style: an array built then scanned: a histogram filled with
-- `hist[b + 1] = hist[b + 1] + 1` over a 256-entry array made with a
-- numeric for, its maximum found with a scan that returns the value and
-- where it is, printable bytes counted with a range test.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4} }

local function histogram(s)
  local hist = {}
  for i = 1, 256 do hist[i] = 0 end
  for i = 1, #s do
    local b = s:byte(i)
    hist[b + 1] = hist[b + 1] + 1
  end
  return hist
end

local function argmax(t)
  local best, at = -1, nil
  for i = 1, #t do
    if t[i] > best then best, at = t[i], i end
  end
  return best, at
end

function filter(pkt)
  local v = pkt:layout(ip4).version
  local body
  if v == 4 then body = pkt:segment(pkt.ihl * 4)
  elseif v == 6 then body = pkt:segment(40) end
  if body == nil or #body < 32 then return false end
  local s = tostring(body:segment(0, math.min(#body, 256)))
  local hist = histogram(s)
  local top = argmax(hist)
  if top / #s > 0.4 then return true end
  local printable = 0
  for b = 32, 126 do printable = printable + hist[b + 1] end
  printable = printable + hist[10 + 1] + hist[13 + 1] + hist[9 + 1]
  return printable == #s
end
