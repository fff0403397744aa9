-- tls-record-walk.lua: accept TCP segments to or from port 443 that carry
-- more than one TLS record, or an alert or a change_cipher_spec record;
-- reject the rest.
--
-- Style: typed header code (layouts on segments, integer arithmetic)
-- around one dynamic part: a counts table keyed by record-type name,
-- filled while walking the records of the segment and read afterwards.
local data = require'data'

local NAMES = { [20] = 'change_cipher_spec', [21] = 'alert', [22] = 'handshake', [23] = 'application_data' }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ sport = {0, 16}, dport = {16, 16}, doff = {96, 4} }
local header = data.layout{ ctype = {0, 8}, major = {8, 8}, length = {24, 16} }

function filter(pkt)
  local seg
  if pkt:layout(ip4).version == 4 then
    if pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
    seg = pkt:segment(pkt.ihl * 4)
  elseif pkt.version == 6 then
    if pkt:layout(ip6).next ~= 6 then return false end
    seg = pkt:segment(40)
  end
  if not seg then return false end
  seg:layout(tcp)
  if seg.sport ~= 443 and seg.dport ~= 443 then return false end
  if seg.doff == nil then return false end
  local body = seg:segment(seg.doff * 4)
  if not body then return false end
  local counts, records = {}, 0
  local pos = 0
  while pos + 5 <= #body do
    local h = body:segment(pos, 5):layout(header)
    local name = NAMES[h.ctype]
    if name == nil or h.major ~= 3 then break end
    counts[name] = (counts[name] or 0) + 1
    records = records + 1
    pos = pos + 5 + h.length
  end
  return records > 1 or counts.alert ~= nil or counts.change_cipher_spec ~= nil
end
