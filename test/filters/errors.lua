-- Runtime errors reject the packet and are counted: error(), assert(),
-- arithmetic on a field that is nil, and pcall catching a local function's error.
local data = require'data'
local l = data.layout{ v = {0, 4}, proto = {72, 8}, far = {4000, 8} }

local function must_be_small(x)
  if x > 200 then error('too big') end
  return x
end

function filter(pkt)
  pkt:layout(l)
  local v = pkt.v
  if v == 4 then
    local ok = pcall(must_be_small, pkt.proto)
    if not ok then return true end
    assert(pkt.proto ~= 17, 'udp not allowed')
    return pkt.proto == 6
  elseif v == 6 then
    return pkt.far + 1 > 0            -- nil arithmetic for short packets
  end
  error('not IP')
end
