-- port-knock-records.lua: port knocking where the knock is a DNS lookup.
-- A source may open TCP connections (SYN without ACK) only within 60 s
-- after it sent a DNS query (UDP to port 53); SYNs from other sources are
-- rejected, as are the queries themselves (the "knocks"); everything else
-- passes.
--
-- Style: per-source records in a table of tables keyed by address
-- strings ("10.0.0.1", built with string.format from the address bytes,
-- or the IPv6 address as hex), each record { knocks = n, last = time,
-- opened = bool, history = {ports...} } created on first sight; uses the
-- capture time argument `filter(pkt, time)` (integer nanoseconds).
local data = require'data'

local WINDOW = 60 * 1000000000          -- ns
local HISTORY = 4

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13}, src = {12, 4, 'string'} }
local ip6 = data.layout{ next = {48, 8}, src = {8, 16, 'string'} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16}, syn = {110, 1}, ack = {107, 1} }

local sources = {}

local function address(bytes)
  if #bytes == 4 then return string.format('%d.%d.%d.%d', bytes:byte(1, 4)) end
  return (bytes:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end

local function record(key)
  local r = sources[key]
  if r == nil then
    r = { knocks = 0, last = nil, opened = false, history = {} }
    sources[key] = r
  end
  return r
end

function filter(pkt, time)
  local proto, seg, src
  local v = pkt:layout(ip4).version
  if v == 4 then
    if pkt.frag ~= 0 then return true end
    proto, seg, src = pkt.proto, pkt:segment(pkt.ihl * 4), pkt.src
  elseif v == 6 then
    pkt:layout(ip6)
    proto, seg, src = pkt.next, pkt:segment(40), pkt.src
  else
    return true
  end
  if seg == nil or src == nil or seg:layout(ports).dport == nil then return true end
  local r = record(address(src))
  if proto == 17 and seg.dport == 53 then
    r.knocks = r.knocks + 1
    r.last = time
    r.opened = true
    table.insert(r.history, 1, seg.dport)
    if #r.history > HISTORY then table.remove(r.history) end
    return false
  end
  if proto == 6 and seg.syn == 1 and seg.ack == 0 then
    if r.opened and r.last and time - r.last <= WINDOW then return true end
    r.opened = false
    return false
  end
  return true
end
