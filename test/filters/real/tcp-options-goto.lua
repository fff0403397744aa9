-- tcp-options-goto.lua: accept TCP SYNs whose options announce window
-- scaling of 7 or more, or an MSS under 1400, or no SACK-permitted; reject
-- SYNs that do not, and every non-SYN or non-TCP packet.
--
-- Style: an option walker with `goto continue` for the one-byte NOP,
-- a `goto done` out of the loop at End of Options, a record of the options
-- seen, and values that may be nil (`local len = s:byte(i + 1)` then
-- `if not len`).
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4}, syn = {110, 1}, ack = {107, 1} }

local function options(s, stop)
  local opts = {}
  local i = 21
  while i <= stop do
    local kind = s:byte(i)
    if kind == 1 then
      i = i + 1
      goto continue
    end
    if kind == 0 then goto done end
    do
      local len = s:byte(i + 1)
      if not len or len < 2 then return nil end
      if kind == 2 and len == 4 then
        opts.mss = s:byte(i + 2) * 256 + s:byte(i + 3)
      elseif kind == 3 and len == 3 then
        opts.wscale = s:byte(i + 2)
      elseif kind == 4 then
        opts.sack = true
      elseif kind == 8 then
        opts.timestamps = true
      end
      i = i + len
    end
    ::continue::
  end
  ::done::
  return opts
end

function filter(pkt)
  local seg
  if pkt:layout(ip4).version == 4 then
    if pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
    seg = pkt:segment(pkt.ihl * 4)
  elseif pkt.version == 6 and pkt:layout(ip6).next == 6 then
    seg = pkt:segment(40)
  end
  if seg == nil or seg:layout(tcp).syn ~= 1 then return false end
  local hlen = seg.doff * 4
  if hlen <= 20 or hlen > #seg then return false end
  local opts = options(tostring(seg), hlen)
  if opts == nil then return false end
  return (opts.wscale or 0) >= 7 or (opts.mss ~= nil and opts.mss < 1400) or not opts.sack
end
