-- string-coercion.lua: accept SIP and HTTP messages whose numeric header
-- values are consistent: Content-Length equal to the body actually present
-- (SIP over UDP) or, for HTTP responses, no more than 1 MiB; CSeq numbers
-- under 2^20; reject the rest.
--
-- Style: Lua's string-to-number coercion used on purpose: captured digit
-- strings go straight into arithmetic ("12" + 0, len - #body) and into a
-- numeric for loop's bounds (for i = "1", count do), comparisons made after
-- arithmetic (strings never compare with numbers), math.tointeger on the
-- coerced float.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local tcp = data.layout{ doff = {96, 4} }

local function transport_payload(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.frag ~= 0 then return nil end
  local seg = pkt:segment(pkt.ihl * 4)
  if seg == nil then return nil end
  if pkt.proto == 17 then
    local p = seg:segment(8)
    return p and tostring(p)
  elseif pkt.proto == 6 and seg:layout(tcp).doff then
    local p = seg:segment(seg.doff * 4)
    return p and tostring(p)
  end
  return nil
end

function filter(pkt)
  local s = transport_payload(pkt)
  if s == nil then return false end
  local head, body = s:match('^(.-\r\n)\r\n(.*)$')
  if head == nil then return false end
  local len = head:match('\n[Cc]ontent%-[Ll]ength:%s*(%d+)') or head:match('\nl:%s*(%d+)')
  if head:find('^SIP/2%.0') or head:find('^%u+ sip:') then
    local cseq = head:match('\nCSeq:%s*(%d+)')
    if cseq == nil or cseq + 0 >= 2 ^ 20 then return false end
    local steps = 0
    for _ = "1", cseq % 4 + 1 do steps = steps + 1 end
    if len == nil then return steps > 0 end
    return len - #body == 0
  elseif head:find('^HTTP/1%.%d %d') then
    if len == nil then return false end
    local n = math.tointeger(len * 1.0)
    return n ~= nil and n <= 1048576 and "1" + n > 1
  end
  return false
end
