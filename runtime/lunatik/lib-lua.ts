// Part 4 of the Lunatik library chunk (after lib-data-lua.ts,
// lib-skb-lua.ts and lib-xtable-lua.ts): the modules netfilter, xdp, linux (+ linux.nf,
// linux.xdp), `require` (built-ins, the script's own dotted modules, stubs
// for control-plane modules), which hooks a packet meets and in what
// order, and the entry the trampoline (engine/sandbox-lua.ts) calls per
// packet. engine.ts prefixes each frame with 10 bytes of link facts (network
// offset, ethertype, MAC header length, VLAN id, direction); a frame whose
// network offset is FLUSH marks the batch's end.
//
// The chunk returns the `data` module and the internal table the
// trampoline reads: S/O/N/LAY/VIEW (its packet view), require(name, env),
// prepare(env) before the main chunk, attach(env) -> entry after it.
export const LUNATIK_LIB_LUA = String.raw`
------------------------------------------------------------------------
-- registrations
local hooks = {}          -- netfilter registrations, in order
local sorted = {}         -- per path: the stages with hooks, in order (cached)
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
  local h = { ops = t }
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
  addhook(h)
  return setmetatable({}, NFHOOK)
end
-- (xtable rules have no mark: they see every packet)
addhook = function(h)
  h.index = #hooks + 1
  hooks[h.index] = h
  sorted = {}
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

local BUILTIN = { data = data, netfilter = netfilter, xdp = xdp, xtable = xtable, byteorder = byteorder, linux = linux, coroutine = corolib,
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
local PATH0 = PATHS[CONFIG.path] or 0
-- a packet's path: its capture's direction flag (1 inbound, 2 outbound)
-- when it has one, else --path. An inbound packet under --path forward is
-- forwarded.
local function pathof(dir)
  if dir == 1 then return PATH0 == FWD and FWD or IN end
  if dir == 2 then return OUT end
  return PATH0
end
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
local function stagehooks(path)
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
local function familyok(pf, etype)
  if pf == 1 then return etype == ETH_IP or etype == ETH_IP6 end
  if pf == 2 then return etype == ETH_IP end
  if pf == 10 then return etype == ETH_IP6 end
  if pf == 3 then return etype == ETH_ARP end
  return pf == 5 or pf == 7
end

------------------------------------------------------------------------
-- per-packet dispatch
local API = CONFIG.api
local XDPARG = CONFIG.xdparg
local MARK0 = CONFIG.mark & 0xffffffff
local FLUSH, NO_NET = 0xfffe, 0xffff
local NF_ACCEPT, NF_STOP, XDP_BASE, XDP_ABORTED, XDP_PASS, XDP_TX, XDP_REDIRECT = 1, 5, 8, 0, 2, 3, 4
local pktinfo = {}

local function callhook(h, st, p, path)
  if h.xt then return callxt(h, st.hooknum, p) end
  local f = h.ops.hook
  if type(f) ~= 'function' then return true, 1 end   -- "operation not defined": accepted
  local d = h.data
  -- no MAC header on the way out of the host (LOCAL_OUT, and POST_ROUTING of output)
  local mac = p.maclen > 0 and not (st.kind == 'inet' and (st.hooknum == 3 or (st.hooknum == 4 and path == OUT)))
  local ok, r, m
  if API == 2026 then
    local k = h.skb
    if k == nil then k = setmetatable({ [KDATA] = d }, SKB); h.skb = k end
    p.mac = mac
    k[KPKT] = p
    ok, r, m = pcall(f, k)
    k[KPKT] = nil
  elseif API == 2025 and mac then
    resetdata(d, p.buf, 0, p.buf.n)
    if p.vlan then ok, r, m = pcall(f, d, 1, p.vlan) else ok, r, m = pcall(f, d, 1) end
  else
    resetdata(d, p.buf, p.net, p.buf.n - p.net)
    if API == 2025 then ok, r, m = pcall(f, d, 1) else ok, r, m = pcall(f, d) end
  end
  cleardata(d)
  if not ok then return false, r end
  return true, r, m
end

local function runxdp(p, etype)
  local s = p.buf.s   -- fresh: #s is the frame's length
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
  resetdata(xarg, { s = arg, n = #arg }, 0, #arg, true)
  local ok, r = pcall(xdpcb, xbuf, xarg)
  cleardata(xbuf); cleardata(xarg)
  if not ok then return -1, r end
  return tointeger(r)
end

-- the outer 802.1Q/802.1ad tag: the kernel's VLAN offload takes it off
-- the frame (into skb->vlan_tci) before netfilter sees it; framebytes()
-- puts it back on output
local function untag(p)
  local buf = p.buf
  p.vtag = sub(buf.s, 13, 16)
  buf.s = sub(buf.s, 1, 12) .. sub(buf.s, 17, buf.n)
  buf.n = buf.n - 4
  p.net, p.maclen = p.net - 4, p.maclen - 4
end

-- the packet's verdict: recorded, then the error a failed hook left raised
-- when the packet goes on (a packet dropped after an error is a plain drop)
local function finish(p, code, mark, err, accepted)
  record(p, code, mark)
  if err and accepted then error(err, 0) end
  return accepted
end

local function entry(view, ts)
  local bytes, off, len = view[S], view[O], view[N]
  local netoff, etype, maclen, vlan, dir = unpack('<I2I2I2I2I2', bytes, off + 1)
  if netoff == FLUSH then flush() return true end
  cur = cur + 1
  REC[cur] = NOREC
  local p = pktinfo
  local s = sub(bytes, off + 11, off + len)
  p.buf = { s = s, n = #s, dirty = false }
  p.net, p.maclen, p.mac, p.etype, p.vtag = netoff, maclen, maclen > 0, etype, nil
  p.vlan = vlan ~= 0xffff and vlan or nil
  nowns = ts
  local err
  local code = NF_ACCEPT
  if xdpcb then
    local a, e = runxdp(p, etype)
    if a < 0 then err = e; a = XDP_PASS end   -- an error: XDP_PASS, as https.c does with a negative result
    if a > XDP_REDIRECT then a = XDP_ABORTED end   -- an unknown action aborts, as the kernel's
    if a ~= XDP_PASS then
      if a == XDP_TX then inject(p, INJ_TX) end
      return finish(p, XDP_BASE + a, MARK0, err, a == XDP_TX or a == XDP_REDIRECT)
    end
    if #hooks == 0 then return finish(p, XDP_BASE + XDP_PASS, MARK0, err, true) end
  end
  if netoff == NO_NET then return finish(p, code, MARK0, err, true) end
  if p.vlan and maclen >= 18 then untag(p) end
  local path = pathof(dir)
  local stages = sorted[path]
  if stages == nil then stages = stagehooks(path); sorted[path] = stages end
  local mark = MARK0
  for i = 1, #stages do
    local st = stages[i]
    local list = st.list
    for j = 1, #list do
      local h = list[j]
      if (h.mark == mark or h.xt) and familyok(h.pf, etype) then
        local ok, r, m = callhook(h, st, p, path)
        local v
        if ok then
          if m ~= nil then mark = tointeger(m) & 0xffffffff end
          v = tointeger(r)
          if v < 0 or v > 5 then v = NF_ACCEPT end
        else
          err = err or r
          v = NF_ACCEPT
        end
        if v ~= NF_ACCEPT then return finish(p, v, mark, err, v == NF_STOP) end
      end
    end
  end
  return finish(p, code, mark, err, true)
end

-- after the main chunk: the entry, or why the script is not a Lunatik one
local function attach(env)
  if #hooks == 0 and xdpcb == nil then
    return nil, 'the script registers no netfilter hook or xtable extension and attaches no XDP callback'
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
  local bad = xtcheck(hooks)
  if bad then return nil, bad end
  local parts = {}
  for _, h in ipairs(hooks) do
    parts[#parts + 1] = format('%d,%d,%d,%d,%s', h.pf, h.hooknum, h.priority, h.mark or 0, h.xt and h.xt .. ' ' .. (h.name:gsub('[,;%z]', '_')) or '')
  end
  -- the engine reads this line (it never reaches the output)
  rawprint = rawprint or env.print
  rawprint('\0lunatik\0' .. api .. '\0' .. why .. '\0' .. (xdpcb and 'xdp' or '') .. '\0' .. concat(parts, ';'))
  return entry
end

-- before the main chunk: print in a packet goes to the packet's log
-- before the main chunk: print in a packet goes to the packet's log
-- coroutine, as Lunatik's states have it: a new coroutine gets the count
-- hook of the thread creating it (debug hooks are per thread, and Lua
-- inherits only the C side of one), so the packet's fuel runs down inside
-- coroutines too; wrap is built on create so its coroutines get it as well
local corolib = {}
for k, f in pairs(coroutine) do corolib[k] = f end
function corolib.create(f)
  local co = cocreate(f)
  local hook, mask, count = gethook()
  if hook then sethook(co, hook, mask, count) end
  return co
end
local function wrapped(ok, ...)
  if ok then return ... end
  local e = ...
  error(e, type(e) == 'string' and 2 or 0)
end
function corolib.wrap(f)
  local co = corolib.create(f)
  return function(...) return wrapped(coresume(co, ...)) end
end

-- before the main chunk: print in a packet goes to the packet's log; coroutines
local function prepare(env)
  rawprint = env.print
  env.print = lprint
  env.coroutine = corolib
end

return data, { S = S, O = O, N = N, LAY = LAY, VIEW = VIEW, require = require, attach = attach, prepare = prepare }
`;
