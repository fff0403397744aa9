-- ntp-clock.lua: accept NTP packets (UDP port 123) in client or server
-- mode whose transmit timestamp, converted to Unix time, lies within a day
-- of the packet's capture time, or any NTP packet whose stratum is 16
-- (unsynchronised); reject the rest.
--
-- Style: fixed-point to float conversion (seconds + fraction / 2^32),
-- an era offset constant, math.abs on a float difference, the capture
-- time argument as integer nanoseconds turned into float seconds with `/`.
local data = require'data'

local NTP_UNIX = 2208988800            -- seconds from 1900 to 1970
local DAY = 86400.0

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local udp = data.layout{ sport = {0, 16}, dport = {16, 16} }
local ntp = data.layout{ li = {0, 2}, vn = {2, 3}, mode = {5, 3}, stratum = {8, 8},
                         tx_sec = {320, 32}, tx_frac = {352, 32} }

function filter(pkt, time)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 17 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or not seg:layout(udp).dport then return false end
  if seg.sport ~= 123 and seg.dport ~= 123 then return false end
  local msg = seg:segment(8)
  if not msg or #msg < 48 then return false end
  msg:layout(ntp)
  if msg.stratum == 16 then return true end
  if msg.mode ~= 3 and msg.mode ~= 4 then return false end
  local tx = msg.tx_sec - NTP_UNIX + msg.tx_frac / 2 ^ 32
  local now = time / 1e9
  return math.abs(tx - now) < DAY
end
