-- rtp-streams.lua: per-SSRC RTP stream tracking. Accept RTP packets (UDP,
-- version 2, payload type < 128 and not an RTCP type) that arrive in
-- sequence (the next sequence number, with 16-bit wrap-around) on a stream
-- already seen; reject the first packet of a stream, out-of-order or lost
-- gaps, and non-RTP traffic. An interarrival jitter estimate (RFC 3550,
-- floating point) is kept per stream and packets whose stream's jitter is
-- above 50 ms are rejected too.
--
-- Style: records per stream keyed by SSRC (an integer), float arithmetic
-- (jitter += (|d| - jitter) / 16), math.abs, modular arithmetic on
-- sequence numbers, the capture time argument.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local udp = data.layout{ sport = {0, 16}, dport = {16, 16} }
local rtp = data.layout{ version = {0, 2}, pt = {9, 7}, seq = {16, 16}, ts = {32, 32}, ssrc = {64, 32} }

local streams = {}

function filter(pkt, time)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 17 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or not seg:layout(udp).dport or seg.dport < 1024 or seg.sport < 1024 then return false end
  local body = seg:segment(8)
  if not body or #body < 12 then return false end
  body:layout(rtp)
  if body.version ~= 2 or (body.pt >= 72 and body.pt <= 76) then return false end
  local arrival = time / 1e6                    -- ms
  local st = streams[body.ssrc]
  if st == nil then
    streams[body.ssrc] = { seq = body.seq, ts = body.ts, arrival = arrival, jitter = 0.0 }
    return false
  end
  local expected = (st.seq + 1) % 65536
  local transit = (arrival - st.arrival) - (body.ts - st.ts) / 8.0   -- 8 kHz clock
  st.jitter = st.jitter + (math.abs(transit) - st.jitter) / 16
  local in_order = body.seq == expected
  st.seq, st.ts, st.arrival = body.seq, body.ts, arrival
  return in_order and st.jitter < 50
end
