-- rate-limit.lua: a token bucket per source address over capture time.
--
-- Each IPv4/IPv6 source may send RATE packets per second on average, in
-- bursts of up to BURST packets: its bucket holds up to BURST tokens,
-- refills at RATE tokens a second of capture time, and each packet that
-- finds a whole token takes it and passes; the others are dropped.
-- Packets without a source address (ARP, cut headers, not IP) pass.
--
-- Time is filter's second argument, the capture time in integer
-- nanoseconds, and the bucket is kept in integer "nano-tokens" (a token
-- is 10^9 of them, so RATE tokens a second is RATE nano-tokens a
-- nanosecond): no floats, so a run over a capture is exactly
-- reproducible. A capture whose clock steps back refills nothing.
--
-- tshark/libpcap cannot express it (the verdict depends on earlier
-- packets); the expected counts are cross-checked by re-computing the
-- buckets from `tshark -T fields -e frame.time_epoch -e ip.src -e ipv6.src`.
local data = require'data'

local RATE = 10                  -- tokens per second
local BURST = 5                  -- bucket size, tokens
local TOKEN = 1000000000         -- nano-tokens per token
local FULL = BURST * TOKEN

local ipv4 = data.layout{ version = {0, 4}, source = {96, 32} }
local ipv6 = data.layout{ version = {0, 4}, source = {8, 16, 'string'} }

local tokens = {}   -- source -> nano-tokens in its bucket
local last = {}     -- source -> capture time (ns) of its last refill

local function source_of(pkt)
  local version = pkt:layout(ipv4).version
  if version == 4 then return pkt.source end
  if version == 6 then return pkt:layout(ipv6).source end
  return nil
end

function filter(pkt, time)
  local source = source_of(pkt)
  if source == nil then return true end
  local level = tokens[source]
  if level == nil then
    level = FULL
  else
    local elapsed = time - last[source]
    if elapsed > 0 then
      -- cap before multiplying: a long gap must not overflow
      if elapsed >= FULL // RATE then level = FULL
      else level = math.min(FULL, level + elapsed * RATE) end
    end
  end
  last[source] = math.max(time, last[source] or time)
  if level >= TOKEN then
    tokens[source] = level - TOKEN
    return true
  end
  tokens[source] = level
  return false
end
