-- scan-detect.lua: reject traffic from sources that look like scanners
-- (contacted 12 or more distinct destination ports, or 8 or more distinct
-- hosts, with TCP SYNs); accept everything else, including the scanner's
-- first probes below the thresholds.
--
-- Style: tables of tables of sets: per source a record { ports = {},
-- hosts = {}, nports = 0, nhosts = 0 } where the sets are keyed by
-- integers (ports) and by integers (IPv4 addresses); a helper that adds to
-- a set and returns whether it was new (two results used as one).
local data = require'data'

local MAX_PORTS, MAX_HOSTS = 12, 8

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13}, src = {96, 32}, dst = {128, 32} }
local tcp = data.layout{ dport = {16, 16}, ack = {107, 1}, syn = {110, 1} }

local sources = {}

local function add(set, key)
  if set[key] then return false, set end
  set[key] = true
  return true, set
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 6 or pkt.frag ~= 0 then return true end
  local seg = pkt:segment(pkt.ihl * 4)
  if seg == nil or seg:layout(tcp).syn == nil then return true end
  local s = sources[pkt.src]
  if s == nil then
    s = { ports = {}, hosts = {}, nports = 0, nhosts = 0 }
    sources[pkt.src] = s
  end
  if seg.syn == 1 and seg.ack == 0 then
    if (add(s.ports, seg.dport)) then s.nports = s.nports + 1 end
    if (add(s.hosts, pkt.dst)) then s.nhosts = s.nhosts + 1 end
  end
  return s.nports < MAX_PORTS and s.nhosts < MAX_HOSTS
end
