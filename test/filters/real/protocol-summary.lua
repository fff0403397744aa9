-- protocol-summary.lua: summarise each packet into a record and accept it
-- when one of a list of predicates holds: small UDP datagrams to high
-- ports, TCP segments with PSH and a payload over 1000 bytes, ICMP that is
-- not an echo, or IPv6 with a hop limit of 1 or 255.
--
-- Style: a summary record {} with fields (version, proto, sport, dport,
-- flags, len, ttl, payload) built by one function, then a list of
-- predicate functions (helpers passed as values) scanned with ipairs;
-- fields that may be nil (`s.dport and s.dport > 1023`).
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, total = {16, 16}, ttl = {64, 8}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ plen = {32, 16}, next = {48, 8}, hops = {56, 8} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16} }
local tcp = data.layout{ doff = {96, 4}, flags = {104, 8} }
local icmp = data.layout{ type = {0, 8}, code = {8, 8} }

local function summarize(pkt)
  local s = { version = pkt:layout(ip4).version, len = #pkt }
  local seg
  if s.version == 4 then
    s.proto, s.ttl = pkt.proto, pkt.ttl
    if pkt.frag == 0 then seg = pkt:segment(pkt.ihl * 4) end
  elseif s.version == 6 then
    pkt:layout(ip6)
    s.proto, s.ttl = pkt.next, pkt.hops
    seg = pkt:segment(40)
  else
    return s
  end
  if seg == nil then return s end
  if s.proto == 6 or s.proto == 17 then
    seg:layout(ports)
    s.sport, s.dport = seg.sport, seg.dport
    if s.proto == 6 then
      seg:layout(tcp)
      s.flags = seg.flags
      if seg.doff then s.payload = #seg - seg.doff * 4 end
    else
      s.payload = #seg - 8
    end
  elseif s.proto == 1 or s.proto == 58 then
    seg:layout(icmp)
    s.icmp_type = seg.type
  end
  return s
end

local function small_udp_high(s)
  return s.proto == 17 and s.dport ~= nil and s.dport > 1023 and s.payload < 64
end
local function big_push(s)
  return s.proto == 6 and s.flags ~= nil and s.flags & 0x08 ~= 0 and (s.payload or 0) > 1000
end
local function odd_icmp(s)
  return s.icmp_type ~= nil and s.icmp_type ~= 0 and s.icmp_type ~= 8 and s.icmp_type ~= 128 and s.icmp_type ~= 129
end
local function edge_hops(s)
  return s.version == 6 and (s.ttl == 1 or s.ttl == 255)
end

local RULES = { small_udp_high, big_push, odd_icmp, edge_hops }

function filter(pkt)
  local s = summarize(pkt)
  for _, rule in ipairs(RULES) do
    if rule(s) then return true end
  end
  return false
end
