-- rate-limit-float.lua: a token bucket per source address in floating
-- point: 4.5 packets per second, a burst of 6. A packet that finds a
-- token takes it and passes; one that finds none is rejected. Non-IP
-- packets pass.
--
-- Style: float arithmetic on the capture time (`time / 1e9` seconds, a
-- float), math.min, per-source records { tokens, stamp } keyed by the
-- source address string; `time` may be 0 (pcapng simple blocks), which
-- simply refills nothing.
local data = require'data'

local RATE, BURST = 4.5, 6.0

local ip4 = data.layout{ version = {0, 4}, src = {96, 32} }
local ip6 = data.layout{ src = {8, 16, 's'} }

local buckets = {}

function filter(pkt, time)
  local v = pkt:layout(ip4).version
  local key
  if v == 4 then key = pkt.src
  elseif v == 6 then key = pkt:layout(ip6).src end
  if key == nil then return true end
  local now = time / 1e9
  local b = buckets[key]
  if not b then
    b = { tokens = BURST, stamp = now }
    buckets[key] = b
  end
  local elapsed = now - b.stamp
  if elapsed > 0 then
    b.tokens = math.min(BURST, b.tokens + elapsed * RATE)
    b.stamp = now
  end
  if b.tokens >= 1.0 then
    b.tokens = b.tokens - 1
    return true
  end
  return false
end
