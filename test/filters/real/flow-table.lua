-- flow-table.lua: a flow table. Accept the first 6 packets of every
-- bidirectional TCP/UDP flow (the classifier's sample), reject the rest;
-- flows idle for more than 30 s are forgotten (swept every 256 packets).
-- Non-TCP/UDP traffic is rejected.
--
-- Style: a 5-tuple key made with string.format from addresses and
-- ports ordered so both directions meet, records {packets, bytes, first,
-- last} in a module-level table, an idle sweep with pairs that removes
-- entries (assigning nil to existing keys while traversing is allowed).
local data = require'data'

local SAMPLE, IDLE = 6, 30 * 1000000000

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13}, src = {96, 32}, dst = {128, 32} }
local ip6 = data.layout{ next = {48, 8}, src = {8, 16, 's'}, dst = {24, 16, 's'} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16} }

local flows, nflows, seen = {}, 0, 0

local function sweep(now)
  for key, f in pairs(flows) do
    if now - f.last > IDLE then
      flows[key] = nil
      nflows = nflows - 1
    end
  end
end

local function flow_key(proto, a, pa, b, pb)
  a, b = tostring(a), tostring(b)
  if a > b or (a == b and pa > pb) then a, pa, b, pb = b, pb, a, pa end
  return string.format('%d|%s|%d|%s|%d', proto, a, pa, b, pb)
end

function filter(pkt, time)
  seen = seen + 1
  if seen % 256 == 0 then sweep(time) end
  local proto, seg, src, dst
  if pkt:layout(ip4).version == 4 then
    if pkt.frag ~= 0 then return false end
    proto, seg, src, dst = pkt.proto, pkt:segment(pkt.ihl * 4), pkt.src, pkt.dst
  elseif pkt.version == 6 then
    pkt:layout(ip6)
    proto, seg, src, dst = pkt.next, pkt:segment(40), pkt.src, pkt.dst
  end
  if (proto ~= 6 and proto ~= 17) or seg == nil or dst == nil then return false end
  seg:layout(ports)
  if seg.dport == nil then return false end
  local key = flow_key(proto, src, seg.sport, dst, seg.dport)
  local f = flows[key]
  if f == nil then
    f = { packets = 0, bytes = 0, first = time, last = time }
    flows[key] = f
    nflows = nflows + 1
  end
  f.packets = f.packets + 1
  f.bytes = f.bytes + #pkt
  f.last = time
  return f.packets <= SAMPLE
end
