-- stun-attributes.lua: accept STUN messages (UDP, magic cookie
-- 0x2112A442) that are requests carrying USERNAME or MESSAGE-INTEGRITY,
-- or success responses whose XOR-MAPPED-ADDRESS decodes to a public IPv4
-- address; reject other STUN and non-STUN traffic.
--
-- Style: a TLV attribute walk with 4-byte padding ((len + 3) // 4 * 4),
-- attributes collected into a table keyed by type, XOR decoding with ~
-- and >>, string.unpack with several results, a dotted address built
-- with table.concat.
local data = require'data'

local COOKIE = 0x2112A442

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }

local function attributes(s)
  local attrs = {}
  local pos = 21
  while pos + 3 <= #s do
    local t, len = string.unpack('>I2I2', s, pos)
    attrs[t] = s:sub(pos + 4, pos + 3 + len)
    pos = pos + 4 + (len + 3) // 4 * 4
  end
  return attrs
end

local function xor_address(v)
  if v == nil or #v < 8 or v:byte(2) ~= 1 then return nil end
  local packed = string.unpack('>I4', v, 5) ~ COOKIE
  local parts = {}
  for shift = 24, 0, -8 do parts[#parts + 1] = (packed >> shift) & 0xFF end
  return table.concat(parts, '.'), parts[1]
end

function filter(pkt)
  local seg
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.proto == 17 and pkt.frag == 0 then seg = pkt:segment(pkt.ihl * 4)
  elseif v == 6 and pkt:layout(ip6).next == 17 then seg = pkt:segment(40) end
  local body = seg and seg:segment(8)
  if body == nil or #body < 20 then return false end
  local s = tostring(body)
  local mtype, mlen, cookie = string.unpack('>I2I2I4', s)
  if cookie ~= COOKIE or mtype & 0xC000 ~= 0 or mlen % 4 ~= 0 then return false end
  local attrs = attributes(s)
  local class = mtype & 0x0110
  if class == 0 then return attrs[0x0006] ~= nil or attrs[0x0008] ~= nil end
  if class == 0x0100 then
    local addr, first = xor_address(attrs[0x0020])
    return addr ~= nil and first ~= 10 and first ~= 127 and not addr:find('^192%.168%.')
  end
  return false
end
