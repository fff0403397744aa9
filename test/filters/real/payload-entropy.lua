-- payload-entropy.lua: accept TCP/UDP payloads of 64 bytes or more whose
-- byte entropy is below 5.5 bits per byte (text, headers, padding: not
-- compressed or encrypted data); reject high-entropy and short payloads.
-- Only the first 512 bytes are looked at, to bound the work per packet.
--
-- Style: floating-point arithmetic: a 256-entry count array filled from
-- s:byte(i), Shannon entropy with math.log(p, 2) summed in a float, the
-- array scanned with a numeric for over 0..255 (entries may be nil).
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4} }

local function entropy(s)
  local counts = {}
  for i = 1, #s do
    local b = s:byte(i)
    counts[b] = (counts[b] or 0) + 1
  end
  local h, n = 0.0, #s
  for b = 0, 255 do
    local c = counts[b]
    if c then
      local p = c / n
      h = h - p * math.log(p, 2)
    end
  end
  return h
end

function filter(pkt)
  local proto, seg
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.frag == 0 then proto, seg = pkt.proto, pkt:segment(pkt.ihl * 4)
  elseif v == 6 then proto, seg = pkt:layout(ip6).next, pkt:segment(40) end
  if seg == nil then return false end
  local body
  if proto == 6 and seg:layout(tcp).doff then body = seg:segment(seg.doff * 4)
  elseif proto == 17 then body = seg:segment(8) end
  if body == nil or #body < 64 then return false end
  return entropy(tostring(body:segment(0, math.min(#body, 512)))) < 5.5
end
