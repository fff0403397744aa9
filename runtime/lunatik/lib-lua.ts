// Lunatik's kernel libraries as Lua source for the interpreted engine: run
// in place of the NPF `data` library (engine/sandbox-lua.ts loads it as
// '=data'), so a Lunatik script runs unmodified. It gives `require` the
// modules netfilter, xdp, data (Lunatik's, not luadata), byteorder, linux
// (+ linux.nf, linux.xdp constants, x86-64 values), the script's own dotted
// modules, and stubs for control-plane modules; and it gives the trampoline
// an entry that runs every registered hook on a packet (runtime/lunatik/
// engine.ts prefixes each frame with 8 bytes of link facts).
//
// The chunk is prefixed by `local CONFIG = {...}` (engine.ts) and returns
// the `data` module and the internal table the trampoline reads: S/O/N/LAY/
// VIEW (its packet view), require(name, env) and attach(env) -> entry.
export const LUNATIK_LIB_LUA = String.raw`
local type, error, pcall, setmetatable, getmetatable, rawget, tostring, tonumber, select, ipairs, pairs, next, load =
  type, error, pcall, setmetatable, getmetatable, rawget, tostring, tonumber, select, ipairs, pairs, next, load
local unpack, pack, sub, rep, format, concat, sort = string.unpack, string.pack, string.sub, string.rep,
  string.format, table.concat, table.sort
local mtointeger, mtype = math.tointeger, math.type
local getinfo = debug.getinfo
local G = _G
local stringlib, tablelib, mathlib, utf8lib = string, table, math, utf8

-- the trampoline's view of a packet: bytes, offset, length
local S, O, N, LAY = {}, {}, {}, {}
local VIEW = {}

local function checkint(v, arg, fname)
  local t = mtype(v)
  if t == 'integer' then return v end
  if t == 'float' then
    local i = mtointeger(v)
    if i then return i end
    error(format("bad argument #%d to '%s' (number has no integer representation)", arg, fname), 3)
  end
  if type(v) == 'string' then
    local n = tonumber(v)
    if n and mtointeger(n) then return mtointeger(n) end
  end
  error(format("bad argument #%d to '%s' (number expected, got %s)", arg, fname, v == nil and 'no value' or type(v)), 3)
end

-- lua_tointeger: numbers with an integral value and numeric strings, else 0
local function tointeger(v)
  if type(v) == 'string' then v = tonumber(v) end
  if type(v) == 'number' then return mtointeger(v) or 0 end
  return 0
end

------------------------------------------------------------------------
-- data: a window [off, off+len) on a shared buffer {s = bytes}; loads and
-- stores in host byte order (little-endian), 0-based offsets, any access
-- outside the window (or of zero length) an error, as lib/luadata.c.
local B, OFF, LEN, RO, OWN = {}, {}, {}, {}, {}
local DATA = { __name = 'data' }
local dm = {}
DATA.__index = dm
DATA.__metatable = 'data'

local function isdata(d) return type(d) == 'table' and getmetatable(d) == 'data' and rawget(d, LEN) ~= nil end

local function bounds(d, off, n, fname)
  if not isdata(d) then error(format("bad argument #1 to '%s' (data expected)", fname), 3) end
  off = checkint(off, 1, fname)
  if not (off >= 0 and n > 0 and off + n <= d[LEN]) then
    error(format("bad argument #1 to '%s' (out of bounds)", fname), 3)
  end
  return off
end

local function newdata(buf, off, len, ro, own)
  return setmetatable({ [B] = buf, [OFF] = off, [LEN] = len, [RO] = ro or false, [OWN] = own or false }, DATA)
end
local function resetdata(d, buf, off, len, ro)
  d[B], d[OFF], d[LEN], d[RO] = buf, off, len, ro or false
end
local function cleardata(d) d[B], d[OFF], d[LEN] = nil, 0, 0 end

local function store(d, off, bytes, fname)
  if d[RO] then error(format("bad argument #1 to '%s' (read only)", fname), 3) end
  local buf, at = d[B], d[OFF] + off
  local s = buf.s
  buf.s = sub(s, 1, at) .. bytes .. sub(s, at + #bytes + 1)
  buf.dirty = true
end

local ints = {
  int8 = { 'b', 1, 0xff }, uint8 = { 'B', 1, 0xff }, int16 = { '<i2', 2, 0xffff }, uint16 = { '<I2', 2, 0xffff },
  int32 = { '<i4', 4, 0xffffffff }, uint32 = { '<I4', 4, 0xffffffff }, int64 = { '<i8', 8, -1 },
}
local function defint(name, t, alias)
  local fmt, n, mask = t[1], t[2], t[3]
  local ufmt = n == 8 and '<i8' or '<I' .. n
  local gname, sname = 'get' .. (alias or name), 'set' .. (alias or name)
  dm[gname] = function(d, off)
    off = bounds(d, off, n, gname)
    return (unpack(fmt, d[B].s, d[OFF] + off + 1))
  end
  dm[sname] = function(d, off, v)
    off = bounds(d, off, n, sname)
    v = checkint(v, 2, sname)
    store(d, off, pack(ufmt, v & mask), sname)
  end
end
for name, t in pairs(ints) do defint(name, t) end
defint('uint8', ints.uint8, 'byte')
defint('int64', ints.int64, 'number')

function dm.getstring(d, off, len)
  if not isdata(d) then error("bad argument #1 to 'getstring' (data expected)", 2) end
  off = checkint(off, 1, 'getstring')
  len = len == nil and d[LEN] - off or checkint(len, 2, 'getstring')
  off = bounds(d, off, len, 'getstring')
  local at = d[OFF] + off
  return sub(d[B].s, at + 1, at + len)
end
function dm.setstring(d, off, s)
  if type(s) ~= 'string' then error("bad argument #2 to 'setstring' (string expected, got " .. type(s) .. ')', 2) end
  off = bounds(d, off, #s, 'setstring')
  store(d, off, s, 'setstring')
end
-- csum_fold(csum_partial(...)) on x86: the ones' complement sum of
-- little-endian 16-bit words, folded and complemented
local function csum(s, i, j, sum)
  sum = sum or 0
  while i + 1 <= j do sum = sum + (unpack('<I2', s, i)); i = i + 2 end
  if i == j then sum = sum + (unpack('B', s, i)) end
  return sum
end
local function fold(sum)
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  return (~sum) & 0xffff
end
function dm.checksum(d, off, len)
  if not isdata(d) then error("bad argument #1 to 'checksum' (data expected)", 2) end
  off = off == nil and 0 or checkint(off, 1, 'checksum')
  len = len == nil and d[LEN] - off or checkint(len, 2, 'checksum')
  off = bounds(d, off, len, 'checksum')
  local at = d[OFF] + off
  return fold(csum(d[B].s, at + 1, at + len))
end
function dm.resize(d, n)
  n = checkint(n, 1, 'resize')
  if d[RO] then error("bad argument #1 to 'resize' (read only)", 2) end
  if not d[OWN] then error('cannot resize external memory', 2) end
  local s = d[B].s
  d[B].s = n <= #s and sub(s, 1, n) or s .. rep('\0', n - #s)
  d[LEN] = n
end
DATA.__len = function(d) return d[LEN] end
DATA.__tostring = function(d)
  if d[LEN] == 0 then return '' end
  return sub(d[B].s, d[OFF] + 1, d[OFF] + d[LEN])
end

local data = {}
function data.new(n)
  n = checkint(n, 1, 'new')
  return newdata({ s = rep('\0', n) }, 0, n, false, true)
end

------------------------------------------------------------------------
-- byte order (x86-64 is little-endian: ntoh* swap)
local function swapper(n)
  local ifmt, ofmt = '<I' .. n, '>I' .. n
  if n == 8 then ifmt, ofmt = '<i8', '>i8' end
  local mask = n == 8 and -1 or (1 << (8 * n)) - 1
  return function(x)
    x = checkint(x, 1, 'ntoh')
    return (unpack(ifmt, pack(ofmt, x & mask)))
  end
end
local function ident(n)
  local mask = n == 8 and -1 or (1 << (8 * n)) - 1
  return function(x) return checkint(x, 1, 'htole') & mask end
end
local byteorder = {}
for _, n in ipairs{ 2, 4, 8 } do
  local b, w = swapper(n), n * 8
  byteorder['ntoh' .. w], byteorder['hton' .. w], byteorder['htobe' .. w], byteorder['be' .. w .. 'toh'] = b, b, b, b
  byteorder['htole' .. w], byteorder['le' .. w .. 'toh'] = ident(n), ident(n)
end

------------------------------------------------------------------------
-- constants (uapi headers, x86-64)
local INT_MIN, INT_MAX = -2147483648, 2147483647
local function copy(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end
local nfaction = { DROP = 0, ACCEPT = 1, STOLEN = 2, QUEUE = 3, REPEAT = 4, STOP = 5 }
local nfproto = { UNSPEC = 0, INET = 1, IPV4 = 2, ARP = 3, NETDEV = 5, BRIDGE = 7, IPV6 = 10, NUMPROTO = 11 }
local nfinet = { PRE_ROUTING = 0, LOCAL_IN = 1, FORWARD = 2, LOCAL_OUT = 3, POST_ROUTING = 4, NUMHOOKS = 5, INGRESS = 5 }
local nfnetdev = { INGRESS = 0, EGRESS = 1 }
local nfarp = { IN = 0, OUT = 1, FORWARD = 2, NUMHOOKS = 3 }
local nfbr = { PRE_ROUTING = 0, LOCAL_IN = 1, FORWARD = 2, LOCAL_OUT = 3, POST_ROUTING = 4, BROUTING = 5, NUMHOOKS = 6 }
local ippri = { FIRST = INT_MIN, RAW_BEFORE_DEFRAG = -450, CONNTRACK_DEFRAG = -400, RAW = -300, SELINUX_FIRST = -225,
  CONNTRACK = -200, MANGLE = -150, NAT_DST = -100, FILTER = 0, SECURITY = 50, NAT_SRC = 100, SELINUX_LAST = 225,
  CONNTRACK_HELPER = 300, CONNTRACK_CONFIRM = INT_MAX, LAST = INT_MAX }
local brpri = { FIRST = INT_MIN, NAT_DST_BRIDGED = -300, FILTER_BRIDGED = -200, BRNF = 0, NAT_DST_OTHER = 100,
  FILTER_OTHER = 200, NAT_SRC = 300, LAST = INT_MAX }
local xdpaction = { ABORTED = 0, DROP = 1, PASS = 2, TX = 3, REDIRECT = 4 }
local linuxnf = { action = copy(nfaction), proto = copy(nfproto), inet = copy(nfinet), netdev = copy(nfnetdev),
  arp = copy(nfarp), ip = { pri = copy(ippri) }, br = copy(nfbr) }
linuxnf.br.pri = copy(brpri)
local linuxxdp = copy(xdpaction)
linuxxdp.PACKET_HEADROOM = 256

------------------------------------------------------------------------
-- the control plane: modules that load but fail when used
local function unavailable(name)
  return setmetatable({}, { __index = function(_, k)
    return function() error(name .. ' is not available in luapf (' .. name .. '.' .. tostring(k) .. ')', 2) end
  end })
end
local STUBS = { mailbox = true, rcu = true, thread = true, device = true, completion = true, fifo = true,
  socket = true, probe = true, notifier = true, syscall = true, crypto = true, netlink = true, hid = true,
  signal = true, xtable = true, bpf = true, lighten = true, darken = true, net = true, ['socket.inet'] = true,
  ['socket.unix'] = true, ['socket.raw'] = true }

------------------------------------------------------------------------
-- registrations
local hooks = {}          -- netfilter registrations, in order
local sorted = nil        -- per stage, cached
local xdpcb = nil
local nowns = 0           -- the current packet's capture time
local seed = CONFIG.seed
local function rand64()
  -- xorshift64*: deterministic per run (--seed)
  seed = seed ~ (seed << 13); seed = seed ~ (seed >> 7); seed = seed ~ (seed << 17)
  return seed
end

local netfilter = {}
for k, v in pairs{ family = nfproto, action = nfaction, inet_hooks = nfinet, bridge_hooks = nfbr, arp_hooks = nfarp,
    netdev_hooks = nfnetdev, ip_priority = ippri, bridge_priority = brpri } do
  netfilter[k] = copy(v)
end
netfilter.action.CONTINUE, netfilter.action.RETURN = 0xffffffff, -5
netfilter.inet_hooks.NUMHOOKS, netfilter.inet_hooks.INGRESS = nil, nil
local NFHOOK = { __name = 'netfilter', __metatable = 'netfilter' }
function netfilter.register(t)
  if type(t) ~= 'table' then error("bad argument #1 to 'register' (table expected, got " .. type(t) .. ')', 2) end
  local h = { ops = t, index = #hooks + 1 }
  for _, f in ipairs{ 'pf', 'hooknum', 'priority' } do
    local v = t[f]
    if mtype(v) ~= 'integer' and not (mtype(v) == 'float' and mtointeger(v)) then
      error(format("bad argument #1 to 'register' (field '%s' must be an integer, got %s)", f, type(v)), 2)
    end
    h[f] = mtointeger(v)
  end
  h.mark = t.mark == nil and 0 or (checkint(t.mark, 1, 'register') & 0xffffffff)
  h.data = newdata(nil, 0, 0)
  h.nparams = type(t.hook) == 'function' and getinfo(t.hook, 'u').nparams or 0
  hooks[#hooks + 1] = h
  sorted = nil
  return setmetatable({}, NFHOOK)
end

local xdp = { action = copy(xdpaction) }
local xbuf, xarg = newdata(nil, 0, 0), newdata(nil, 0, 0)
function xdp.attach(cb)
  if type(cb) ~= 'function' then error("bad argument #1 to 'attach' (function expected, got " .. type(cb) .. ')', 2) end
  xdpcb = cb
end
function xdp.detach() xdpcb = nil end

local linux = { nf = linuxnf, xdp = linuxxdp }
for k, f in pairs(byteorder) do linux[k] = f end
function linux.time() return nowns end
function linux.difftime(a, b) return checkint(a, 1, 'difftime') - checkint(b, 2, 'difftime') end
function linux.numcpus() return 1 end
function linux.ifindex() return 1 end
function linux.random(...)
  local n = select('#', ...)
  local r = rand64()
  if n == 0 then return r end
  local low, up
  if n == 1 then low, up = 1, checkint(..., 1, 'random')
  elseif n == 2 then low, up = checkint((...), 1, 'random'), checkint(select(2, ...), 2, 'random')
  else error('wrong number of arguments', 2) end
  if low > up then error("bad argument #1 to 'random' (interval is empty)", 2) end
  return low + (r & 0x7fffffffffffffff) % (up - low + 1)
end
for _, k in ipairs{ 'schedule', 'tracing', 'lookup', 'ifaddr', 'errname' } do
  linux[k] = function() error('linux.' .. k .. ' is not available in luapf', 2) end
end
linux.stat, linux.task = {}, {}

local BUILTIN = { data = data, netfilter = netfilter, xdp = xdp, byteorder = byteorder, linux = linux,
  ['linux.nf'] = linuxnf, ['linux.xdp'] = linuxxdp, string = stringlib, table = tablelib, math = mathlib,
  utf8 = utf8lib }

-- require: built-in modules, the script's own modules (CONFIG.modules,
-- found by engine.ts under -I and the script's directories), then stubs
local loaded = {}
local function require(name, env)
  if type(name) ~= 'string' then return nil end
  local m = BUILTIN[name] or loaded[name]
  if m ~= nil then return m end
  local src = CONFIG.modules[name]
  if src then
    local fn, err = load(src.source, '@' .. src.path, 't', env)
    if not fn then error(err, 0) end
    loaded[name] = true   -- a cycle sees true, as Lua's require does
    local r = fn(name)
    if r == nil then r = true end
    loaded[name] = r
    return r
  end
  if STUBS[name] then loaded[name] = unavailable(name); return loaded[name] end
  return nil
end

------------------------------------------------------------------------
-- which hooks a packet meets, in order (docs: README "Lunatik scripts")
local IN, FWD, OUT = 1, 2, 3
local PATHS = { all = 0, ['in'] = IN, forward = FWD, out = OUT }
local path = PATHS[CONFIG.path] or 0
-- stages: { pf set, hooknum, paths where it runs (0: any) }
local STAGES = {
  { 'netdev', 0, { [0] = true, [IN] = true, [FWD] = true } },
  { 'bridge', 5, { [0] = true, [IN] = true, [FWD] = true } },
  { 'bridge', 0, { [0] = true, [IN] = true, [FWD] = true } },
  { 'bridge', 1, { [0] = true, [IN] = true } },
  { 'bridge', 2, { [0] = true, [FWD] = true } },
  { 'bridge', 3, { [0] = true, [OUT] = true } },
  { 'bridge', 4, { [0] = true, [FWD] = true, [OUT] = true } },
  { 'arp', 0, { [0] = true, [IN] = true } },
  { 'arp', 2, { [0] = true, [FWD] = true } },
  { 'arp', 1, { [0] = true, [OUT] = true } },
  { 'inet', 0, { [0] = true, [IN] = true, [FWD] = true } },
  { 'inet', 1, { [0] = true, [IN] = true } },
  { 'inet', 2, { [0] = true, [FWD] = true } },
  { 'inet', 3, { [0] = true, [OUT] = true } },
  { 'inet', 4, { [0] = true, [FWD] = true, [OUT] = true } },
  { 'netdev', 1, { [0] = true, [FWD] = true, [OUT] = true } },
}
local KIND = { [5] = 'netdev', [7] = 'bridge', [3] = 'arp', [1] = 'inet', [2] = 'inet', [10] = 'inet' }
local function stagehooks()
  local out = {}
  for _, st in ipairs(STAGES) do
    if st[3][path] then
      local list = {}
      for _, h in ipairs(hooks) do
        if KIND[h.pf] == st[1] and h.hooknum == st[2] then list[#list + 1] = h end
      end
      sort(list, function(a, b)
        if a.priority ~= b.priority then return a.priority < b.priority end
        return a.index < b.index
      end)
      if #list > 0 then out[#out + 1] = { kind = st[1], hooknum = st[2], list = list } end
    end
  end
  return out
end

-- a hook sees the packet when its family matches the network protocol
local ETH_IP, ETH_IP6, ETH_ARP = 0x0800, 0x86dd, 0x0806
local function familyok(pf, etype)
  if pf == 1 then return etype == ETH_IP or etype == ETH_IP6 end
  if pf == 2 then return etype == ETH_IP end
  if pf == 10 then return etype == ETH_IP6 end
  if pf == 3 then return etype == ETH_ARP end
  return pf == 5 or pf == 7
end

------------------------------------------------------------------------
-- skb objects (the 2026 API): one per hook, reset per packet
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
SKB.__len = function(k) local p = checkskb(k, '__len') return #p.buf.s - p.net end
function sm.ifindex(k) checkskb(k, 'ifindex') return 1 end
function sm.vlan(k) local p = checkskb(k, 'vlan') return p.vlan end
function sm.data(k, layer)
  local p = checkskb(k, 'data')
  if layer ~= nil and layer ~= 'net' and layer ~= 'mac' then
    error("bad argument #1 to 'data' (invalid option '" .. tostring(layer) .. "')", 2)
  end
  local d = k[KDATA]
  if layer == 'mac' then
    if not p.mac then error("bad argument #1 to 'data' (MAC header not set)", 2) end
    resetdata(d, p.buf, 0, #p.buf.s)
  else
    resetdata(d, p.buf, p.net, #p.buf.s - p.net)
  end
  return d
end
function sm.resize(k, n)
  local p = checkskb(k, 'resize')
  n = checkint(n, 1, 'resize')
  local s, want = p.buf.s, p.net + n
  if want > #s then
    if want - #s > CONFIG.tailroom then error("bad argument #1 to 'resize' (insufficient tailroom)", 2) end
    p.buf.s = s .. rep('\0', want - #s)
  else
    p.buf.s = sub(s, 1, want)
  end
  p.buf.dirty = true
end
function sm.connmark(k) checkskb(k, 'connmark') return nil end
for _, f in ipairs{ 'checksum', 'forward', 'copy' } do
  sm[f] = function(k)
    checkskb(k, f)
    error('skb:' .. f .. ' is not available in luapf yet', 2)
  end
end

------------------------------------------------------------------------
-- per-packet dispatch
local API = CONFIG.api
local XDPARG = CONFIG.xdparg
local MARK0 = CONFIG.mark & 0xffffffff
local stages = nil
local pktinfo = { buf = { s = '' }, net = 0, mac = false, vlan = nil }

local function callhook(h, st, p, etype)
  local f = h.ops.hook
  if type(f) ~= 'function' then return true, 1 end   -- "operation not defined": accepted
  local d = h.data
  local mac = p.mac and not (st.kind == 'inet' and (st.hooknum == 3 or (st.hooknum == 4 and path == OUT)))
  local ok, r, m
  if API == 2026 then
    local k = h.skb
    if k == nil then k = setmetatable({ [KDATA] = d }, SKB); h.skb = k end
    p.mac = mac and p.maclen > 0
    k[KPKT] = p
    ok, r, m = pcall(f, k)
    k[KPKT] = nil
  elseif API == 2025 and mac and p.maclen > 0 then
    resetdata(d, p.buf, 0, #p.buf.s)
    if p.vlan then ok, r, m = pcall(f, d, 1, p.vlan) else ok, r, m = pcall(f, d, 1) end
  else
    resetdata(d, p.buf, p.net, #p.buf.s - p.net)
    if API == 2025 then ok, r, m = pcall(f, d, 1) else ok, r, m = pcall(f, d) end
  end
  cleardata(d)
  if not ok then return false, r end
  return true, r, m
end

local function runxdp(p, etype)
  local s = p.buf.s
  local arg = XDPARG
  if CONFIG.xdpmode == 'payload-offset' then
    -- as examples/filter/https.c does in eBPF: only TCP/UDP over IP reach Lua,
    -- with the transport payload's offset in the frame, big-endian
    local n, l4 = p.net, nil
    if etype == ETH_IP and #s >= n + 20 then
      local ihl = (s:byte(n + 1) & 15) * 4
      local proto = s:byte(n + 10)
      l4 = n + ihl
      if proto == 6 and #s >= l4 + 20 then l4 = l4 + (s:byte(l4 + 13) >> 4) * 4
      elseif proto == 17 and #s >= l4 + 8 then l4 = l4 + 8
      else l4 = nil end
    elseif etype == ETH_IP6 and #s >= n + 40 then
      local nh = s:byte(n + 7)
      l4 = n + 40
      if nh == 6 and #s >= l4 + 20 then l4 = l4 + (s:byte(l4 + 13) >> 4) * 4
      elseif nh == 17 and #s >= l4 + 8 then l4 = l4 + 8
      else l4 = nil end
    end
    if l4 == nil or l4 > #s then return 2 end   -- XDP_PASS without calling Lua
    arg = pack('>I2', l4)
  end
  resetdata(xbuf, p.buf, 0, #s)
  resetdata(xarg, { s = arg }, 0, #arg, true)
  local ok, r = pcall(xdpcb, xbuf, xarg)
  cleardata(xbuf); cleardata(xarg)
  if not ok then return -1, r end
  return tointeger(r)
end

local function entry(view, ts)
  local bytes, off, len = view[S], view[O], view[N]
  local netoff, etype, maclen, vlan = unpack('<I2I2I2I2', bytes, off + 1)
  local p = pktinfo
  p.buf = { s = sub(bytes, off + 9, off + len) }
  p.net, p.maclen, p.mac = netoff, maclen, maclen > 0
  p.vlan = vlan ~= 0xffff and vlan or nil
  nowns = ts
  local err
  if xdpcb then
    local a, e = runxdp(p, etype)
    if a < 0 then err = e; a = 2 end   -- an error: XDP_PASS, as https.c does with a negative result
    if a == 3 or a == 4 then if err then error(err, 0) end return true end
    if a ~= 2 then return false end
  end
  if sorted == nil then sorted = stagehooks() end
  if netoff == 0xffff then
    if err then error(err, 0) end
    return true
  end
  local mark = MARK0
  for i = 1, #sorted do
    local st = sorted[i]
    local list = st.list
    for j = 1, #list do
      local h = list[j]
      if h.mark == mark and familyok(h.pf, etype) then
        local ok, r, m = callhook(h, st, p, etype)
        local v
        if ok then
          if m ~= nil then mark = tointeger(m) & 0xffffffff end
          v = tointeger(r)
          if v < 0 or v > 5 then v = 1 end
        else
          err = err or r
          v = 1
        end
        if v == 5 then if err then error(err, 0) end return true end
        if v ~= 1 then return false end
      end
    end
  end
  if err then error(err, 0) end
  return true
end

-- after the main chunk: the entry, or why the script is not a Lunatik one
local function attach(env)
  if #hooks == 0 and xdpcb == nil then
    return nil, 'the script registers no netfilter hook and attaches no XDP callback'
  end
  local api, why = API, CONFIG.apiwhy
  if api == 0 then
    api, why = 2024, 'hooks take one argument and the script does not require byteorder'
    for _, h in ipairs(hooks) do
      if h.nparams >= 2 then api, why = 2025, 'a hook takes (data, ifindex[, vlan])' end
    end
    if api == 2024 and CONFIG.usesbyteorder then api, why = 2025, "the script requires 'byteorder' (a module since 2026-01)" end
    if #hooks == 0 then api, why = 2026, 'XDP only' end
    API = api
  end
  local parts = {}
  for _, h in ipairs(hooks) do
    parts[#parts + 1] = format('%d,%d,%d,%d', h.pf, h.hooknum, h.priority, h.mark)
  end
  -- the engine reads this line (it never reaches the output)
  env.print('\0lunatik\0' .. api .. '\0' .. why .. '\0' .. (xdpcb and 'xdp' or '') .. '\0' .. concat(parts, ';'))
  return entry
end

return data, { S = S, O = O, N = N, LAY = LAY, VIEW = VIEW, require = require, attach = attach }
`;
