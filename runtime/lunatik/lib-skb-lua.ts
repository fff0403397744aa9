// Part 2 of the Lunatik library chunk (after lib-data-lua.ts): skb objects
// (the 2026 API, lib/luaskb.c) and the side effects a packet leaves, which
// engine.ts turns into output: its final bytes when a hook or callback
// wrote to it, its verdict and mark, the packets it made the host send
// (skb:forward(), XDP_TX) and what the script printed while it ran.
//
// Those are kept per batch and handed over once, by flush() on the
// engine's end-of-batch marker: one print of one packed string, O(1) Lua
// steps, so a small --fuel cannot cut it short. Logs and injections are
// recorded when they happen, so a packet that fails later keeps them; a
// packet's record is written when its hooks are done (a packet that ran
// out of fuel keeps the "no record" default).
export const LUNATIK_SKB_LUA = String.raw`
------------------------------------------------------------------------
-- side effects of the current batch
local ETH_IP, ETH_IP6, ETH_ARP = 0x0800, 0x86dd, 0x0806
local NOREC = pack('<BBI4s4', 255, 0, 0, '')   -- the packet failed before its verdict was known
local INJ_FORWARD, INJ_TX = 0, 1
local cur = 0              -- the packet's number in the batch (from 1); 0 outside packets
local REC, LOGS, INJ = {}, {}, {}
local rawprint = nil       -- the sandbox's print (set by prepare): main-chunk output, the engine's lines

-- the frame as it leaves: the VLAN tag the hooks did not see back in place
local function framebytes(p)
  local s = sub(p.buf.s, 1, p.buf.n)
  if p.vtag then s = sub(s, 1, 12) .. p.vtag .. sub(s, 13) end
  return s
end

local function inject(p, kind)
  INJ[#INJ + 1] = pack('<I4Bs4', cur, kind, framebytes(p))
end

-- print in a packet goes to that packet's log (engine.ts prefixes it with the packet)
local function lprint(...)
  local n = select('#', ...)
  local t = { ... }
  for i = 1, n do t[i] = tostring(t[i]) end
  local line = concat(t, '\t', 1, n)
  if cur > 0 then LOGS[#LOGS + 1] = pack('<I4s4', cur, line) else rawprint(line) end
end

-- a packet's record: its verdict code (netfilter 0..5, XDP 8 + action), its final mark and bytes
local function record(p, code, mark)
  local rw = p.buf.dirty
  REC[cur] = pack('<BBI4s4', code, rw and 1 or 0, mark, rw and framebytes(p) or '')
end

local function flush()
  rawprint('\0lunatik-out\0' .. pack('<I4s4s4s4', cur, concat(REC, '', 1, cur), concat(LOGS), concat(INJ)))
  cur, LOGS, INJ = 0, {}, {}
end

------------------------------------------------------------------------
-- skb objects: one per hook, pointed at each packet in turn; copies own
-- their bytes. A packet p is { buf = { s, n, dirty }, net (offset of the
-- network header in buf), mac (a MAC header is set), maclen, vlan, vtag
-- (the 802.1Q tag taken off the frame), etype }.
local SKB = { __name = 'skb', __metatable = 'skb' }
local KPKT, KDATA = {}, {}
local sm = {}
SKB.__index = sm
local function checkskb(k, fname)
  if type(k) ~= 'table' or getmetatable(k) ~= 'skb' then error(format("bad argument #1 to '%s' (skb expected)", fname), 3) end
  local p = k[KPKT]
  if not p then error(format("bad argument #1 to '%s' (skb is not set)", fname), 3) end
  return p
end
SKB.__len = function(k) local p = checkskb(k, '__len') return p.buf.n - p.net end
function sm.ifindex(k) checkskb(k, 'ifindex') return 1 end
function sm.vlan(k) local p = checkskb(k, 'vlan') return p.vlan end
function sm.data(k, layer)
  local p = checkskb(k, 'data')
  if layer ~= nil and layer ~= 'net' and layer ~= 'mac' then
    error("bad argument #1 to 'data' (invalid option '" .. tostring(layer) .. "')", 2)
  end
  -- the hook's skb reuses one data object; a copy's are made on demand, one per call (lib/luaskb.c)
  local d = k[KDATA] or newdata(nil, 0, 0)
  if layer == 'mac' then
    if not p.mac then error("bad argument #1 to 'data' (MAC header not set)", 2) end
    resetdata(d, p.buf, 0, p.buf.n)
  else
    resetdata(d, p.buf, p.net, p.buf.n - p.net)
  end
  return d
end
function sm.resize(k, n)
  local p = checkskb(k, 'resize')
  n = checkint(n, 1, 'resize')
  local buf, want = p.buf, p.net + n
  if want > buf.n then
    if want - buf.n > CONFIG.tailroom then error("bad argument #1 to 'resize' (insufficient tailroom)", 2) end
    if want > #buf.s then buf.s = buf.s .. rep('\0', want - #buf.s) end
  end
  if want ~= buf.n then buf.n, buf.dirty = want, true end
end
function sm.connmark(k) checkskb(k, 'connmark') return nil end

-- the transport checksum as csum_tcpudp_magic / csum_ipv6_magic compute it:
-- the field zeroed, then the pseudo-header (addresses, protocol, length)
-- and len bytes from offset t (0-based) summed; TCP and UDP only
local CHECKAT = { [6] = 16, [17] = 6 }
local function l4sum(s, t, proto, len, pseudo)
  local c = CHECKAT[proto]
  if not c then return s end
  if len < c + 2 then error(format("bad argument #1 to 'checksum' (%s header beyond the packet)", proto == 6 and 'TCP' or 'UDP'), 3) end
  s = sub(s, 1, t + c) .. '\0\0' .. sub(s, t + c + 3)
  local v = fold(csum(s, t + 1, t + len, csum(pseudo, 1, #pseudo)))
  return sub(s, 1, t + c) .. pack('<I2', v) .. sub(s, t + c + 3)
end

-- skb:checksum(): the IPv4 header checksum (ip_send_check), then the TCP or
-- UDP checksum over the length the IP header gives
function sm.checksum(k)
  local p = checkskb(k, 'checksum')
  local buf, o = p.buf, p.net
  local s, avail = buf.s, buf.n - p.net
  if p.etype == ETH_IP then
    if avail < 20 then error("bad argument #1 to 'checksum' (IPv4 header beyond the packet)", 2) end
    local ihl = (s:byte(o + 1) & 15) * 4
    local tot = unpack('>I2', s, o + 3)
    if ihl < 20 or tot < ihl or tot > avail then
      error(format("bad argument #1 to 'checksum' (IPv4 lengths %d/%d do not fit the packet's %d bytes)", ihl, tot, avail), 2)
    end
    s = sub(s, 1, o + 10) .. '\0\0' .. sub(s, o + 13)
    s = sub(s, 1, o + 10) .. pack('<I2', fold(csum(s, o + 1, o + ihl))) .. sub(s, o + 13)
    local proto = s:byte(o + 10)
    s = l4sum(s, o + ihl, proto, tot - ihl, sub(s, o + 13, o + 20) .. pack('>I2I2', proto, tot - ihl))
  elseif p.etype == ETH_IP6 then
    if avail < 40 then error("bad argument #1 to 'checksum' (IPv6 header beyond the packet)", 2) end
    local plen, nh = unpack('>I2B', s, o + 5)
    if 40 + plen > avail then
      error(format("bad argument #1 to 'checksum' (IPv6 payload length %d does not fit the packet's %d bytes)", plen, avail - 40), 2)
    end
    s = l4sum(s, o + 40, nh, plen, sub(s, o + 9, o + 40) .. pack('>I4I4', plen, nh))
  else
    return
  end
  buf.s, buf.dirty = s, true
end

-- skb:copy(): a packet of its own (same headers, VLAN tag and offsets)
function sm.copy(k)
  local p = checkskb(k, 'copy')
  local c = { buf = { s = sub(p.buf.s, 1, p.buf.n), n = p.buf.n, dirty = false }, net = p.net, mac = p.mac,
    maclen = p.maclen, vlan = p.vlan, vtag = p.vtag, etype = p.etype }
  return setmetatable({ [KPKT] = c }, SKB)
end

-- skb:forward(): sent out of the ingress device from its MAC header, i.e. injected
function sm.forward(k)
  local p = checkskb(k, 'forward')
  if not p.mac then error("bad argument #1 to 'forward' (MAC header not set)", 2) end
  inject(p, INJ_FORWARD)
end
`;
