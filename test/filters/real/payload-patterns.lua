-- payload-patterns.lua: pattern-heavy payload rules. Accept TCP/UDP
-- payloads that contain any of: an HTML tag with an on* event attribute, a
-- balanced <script>...</script>-like bracket, a quoted string repeated
-- with a back-reference, an e-mail address, a dotted IPv4 literal, or the
-- word "password" as a whole word (frontier pattern); reject the rest.
--
-- Style: a list of Lua patterns exercising %b, %f, back-references %1,
-- captures, anchors, character classes and lazy `-`, tried in order with
-- string.find / string.match; a count of matches from gsub as well.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local tcp = data.layout{ doff = {96, 4} }

local RULES = {
  '<%a+[^>]-%son%a+%s*=',                -- an inline event handler
  '%b<>%s*%b()',                         -- a tag followed by parentheses
  '(["\'])([%w_]+)%1%s*[:=]%s*%1%2%1',   -- "x" = "x": quoted key repeated
  '[%w%.%-_]+@[%w%-]+%.%a%a+',           -- an e-mail address
  '%f[%d]%d%d?%d?%.%d%d?%d?%.%d%d?%d?%.%d%d?%d?%f[%D]', -- a dotted quad
  '%f[%a][Pp]assword%f[%A]',             -- a whole word
}

local function payload(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.frag ~= 0 then return nil end
  local seg = pkt:segment(pkt.ihl * 4)
  if seg == nil then return nil end
  if pkt.proto == 6 then
    if seg:layout(tcp).doff == nil then return nil end
    seg = seg:segment(seg.doff * 4)
  elseif pkt.proto == 17 then
    seg = seg:segment(8)
  else
    return nil
  end
  return seg and tostring(seg)
end

function filter(pkt)
  local s = payload(pkt)
  if s == nil or #s < 8 then return false end
  for i, pat in ipairs(RULES) do
    if s:find(pat) then return i ~= 2 or select(2, s:gsub('%b<>', '')) >= 2 end
  end
  return false
end
