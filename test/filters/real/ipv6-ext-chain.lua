-- ipv6-ext-chain.lua: walk the IPv6 extension-header chain and accept
-- packets whose upper layer (after any hop-by-hop, routing, destination
-- options and fragment headers) is ICMPv6 or UDP, when at least one
-- extension header was crossed or the upper layer is ICMPv6; reject the
-- rest (and IPv4, and chains longer than 8 or cut short).
--
-- Style: a loop with `goto continue` over a table mapping header numbers
-- to how their length is read (functions in a table), a chain recorded as
-- an array of numbers, table.concat of that array for a description that
-- is then matched with a pattern.
local data = require'data'

local ip6 = data.layout{ version = {0, 4}, next = {48, 8} }
local ext = data.layout{ next = {0, 8}, len = {8, 8} }

local LENGTH = {
  [0] = function(h) return (h.len + 1) * 8 end,     -- hop-by-hop
  [43] = function(h) return (h.len + 1) * 8 end,    -- routing
  [60] = function(h) return (h.len + 1) * 8 end,    -- destination options
  [44] = function() return 8 end,                   -- fragment
  [51] = function(h) return (h.len + 2) * 4 end,    -- AH
}

function filter(pkt)
  if pkt:layout(ip6).version ~= 6 or pkt.next == nil then return false end
  local chain = {}
  local next, off = pkt.next, 40
  for _ = 1, 8 do
    local size = LENGTH[next]
    if size == nil then goto upper end
    do
      local seg = pkt:segment(off, 2)
      if seg == nil then return false end
      seg:layout(ext)
      chain[#chain + 1] = next
      off = off + size(seg)
      next = seg.next
    end
  end
  do return false end
  ::upper::
  chain[#chain + 1] = next
  local desc = table.concat(chain, '>')
  return desc:match('58$') ~= nil or (desc:find('>') ~= nil and desc:match('17$') ~= nil)
end
