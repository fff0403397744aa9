-- State across packets: accept every third IPv4 packet, and every packet
-- of a source seen as the most recent IPv6 one. Exercises module-level
-- mutable locals, integer modulo and comparisons.
local data = require'data'
local ip = data.layout{ version = {0, 4}, last_src_byte = {152, 8} }

local seen = 0
local last_v6 = -1

function filter(pkt)
  pkt:layout(ip)
  local v = pkt.version
  if v == 4 then
    seen = seen + 1
    return seen % 3 == 0
  elseif v == 6 then
    local b = pkt.last_src_byte
    if b == nil then return false end
    local same = b == last_v6
    last_v6 = b
    return same
  end
  return nil
end
