-- fnv-flow-sampling.lua: consistent flow sampling: hash each TCP/UDP
-- flow's 5-tuple (direction-independent) with 64-bit FNV-1a and accept
-- the flows whose hash falls in one quarter of the space; reject the rest.
-- Every packet of a flow gets the same verdict.
--
-- Style: 64-bit integer arithmetic that wraps (FNV prime multiplication),
-- `~` xor, floor division and modulo on negative integers (`h % 4`, `h // 3`
-- follow the sign of the divisor), the tuple made into a string by `..`
-- of integers.
local data = require'data'

local OFFSET, PRIME = -3750763034362895579, 1099511628211     -- 0xcbf29ce484222325 as a signed integer

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13}, src = {96, 32}, dst = {128, 32} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16} }

local function fnv1a(s)
  local h = OFFSET
  for i = 1, #s do
    h = (h ~ s:byte(i)) * PRIME
  end
  return h
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.frag ~= 0 then return false end
  if pkt.proto ~= 6 and pkt.proto ~= 17 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if seg == nil or seg:layout(ports).dport == nil then return false end
  local a, b = pkt.src .. ':' .. seg.sport, pkt.dst .. ':' .. seg.dport
  if a > b then a, b = b, a end
  local h = fnv1a(pkt.proto .. '/' .. a .. '/' .. b)
  local bucket = h % 4                 -- 0..3 even when h < 0
  local spread = h // 3 - (h // 3) % 1 -- an integer: floor division stays integral
  return bucket == 1 and math.type(spread) == 'integer'
end
