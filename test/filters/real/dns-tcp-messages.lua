-- dns-tcp-messages.lua: DNS over TCP. Accept TCP segments on port 53 that
-- hold one or more complete length-prefixed DNS messages, each with a
-- sane header (opcode 0, at most 16 questions); reject segments that hold
-- a partial message (split over segments), and non-DNS traffic.
--
-- Style: a loop over length-prefixed messages in the payload string with
-- string.unpack('>I2'), a per-message header record, integer bit
-- extraction with shifts and masks, a `repeat ... until` loop.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local tcp = data.layout{ sport = {0, 16}, dport = {16, 16}, doff = {96, 4} }

local function header(s, pos)
  local id, flags, qd, an = string.unpack('>I2I2I2I2', s, pos)
  return { id = id, qr = flags >> 15, opcode = (flags >> 11) & 0xF, rcode = flags & 0xF, qd = qd, an = an }
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or not seg:layout(tcp).doff then return false end
  if seg.sport ~= 53 and seg.dport ~= 53 then return false end
  local body = seg:segment(seg.doff * 4)
  if not body or #body < 2 then return false end
  local s = tostring(body)
  local pos, messages = 1, 0
  repeat
    if pos + 1 > #s then break end
    local len = string.unpack('>I2', s, pos)
    if len < 12 or pos + 1 + len > #s then return false end
    local h = header(s, pos + 2)
    if h.opcode ~= 0 or h.qd > 16 then return false end
    messages = messages + 1
    pos = pos + 2 + len
  until pos > #s
  return messages > 0
end
