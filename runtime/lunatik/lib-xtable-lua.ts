// Part 3 of the Lunatik library chunk (after lib-skb-lua.ts, before
// lib-lua.ts): `xtable`, the Xtables extensions Lunatik had until 2026-03
// (lib/luaxtable.c): xtable.match{...} with match(data, par, userargs) and
// xtable.target{...} with target(data, par, userargs). luapf has no
// iptables rule to use them, so each registration stands for one rule in
// the filter table (priority 0) at every hook of its `hooks` bitmask: a
// match is `-m NAME -j <--xt-target, DROP by default>`, a target `-j NAME`,
// both with `--xt-args` as the rule's userargs (256 bytes, zero-padded, as
// the kernel hands them). checkentry runs once after the main chunk (an
// error there fails the load, as iptables fails to add the rule); destroy
// never runs (rules are never deleted).
export const LUNATIK_XTABLE_LUA = String.raw`
------------------------------------------------------------------------
-- xtable
local addhook = nil   -- set by the next part: appends a registration to the hook list
local XTARGS = sub(CONFIG.xtargs .. rep('\0', 256), 1, 256)
local XTVERDICT = CONFIG.xtverdict
local xtable = {}
local XTOBJ = { __name = 'xtable', __metatable = 'xtable' }

local function xtregister(kind, t)
  if type(t) ~= 'table' then error(format("bad argument #1 to '%s' (table expected, got %s)", kind, type(t)), 3) end
  if type(t.name) ~= 'string' then error(format("bad argument #1 to '%s' (field 'name' must be a string)", kind), 3) end
  for _, f in ipairs{ 'checkentry', 'destroy', kind } do
    if type(t[f]) ~= 'function' then error(format("bad argument #1 to '%s' (field '%s' must be a function)", kind, f), 3) end
  end
  local v = {}
  for _, f in ipairs{ 'revision', 'family', 'proto', 'hooks' } do v[f] = t[f] == nil and 0 or checkint(t[f], 1, kind) end
  for hooknum = 0, 7 do
    if v.hooks & (1 << hooknum) ~= 0 then
      addhook{ xt = kind, name = t.name, ops = t, pf = v.family, hooknum = hooknum, priority = 0, proto = v.proto,
        nparams = 0, data = newdata(nil, 0, 0) }
    end
  end
  return setmetatable({}, XTOBJ)
end
function xtable.match(t) return xtregister('match', t) end
function xtable.target(t) return xtregister('target', t) end

-- the xt_action_param fields Lunatik passed: transport header offset and
-- fragment offset (ip_tables: the IPv4 field in 8-byte units; ip6_tables:
-- bytes), and the packet's transport protocol
local IP6_EXT = { [0] = true, [43] = true, [44] = true, [60] = true }
local function xtparams(p, hooknum)
  local s, o, n = p.buf.s, p.net, p.buf.n
  local thoff, fragoff, proto = 0, 0, nil
  if p.etype == ETH_IP and n >= o + 20 then
    thoff, fragoff, proto = (s:byte(o + 1) & 15) * 4, unpack('>I2', s, o + 7) & 0x1FFF, s:byte(o + 10)
  elseif p.etype == ETH_IP6 and n >= o + 40 then
    local nh, off = s:byte(o + 7), 40
    while IP6_EXT[nh] and n >= o + off + 8 do
      local nxt = s:byte(o + off + 1)
      if nh == 44 then
        fragoff = unpack('>I2', s, o + off + 3) & 0xFFF8
        off = off + 8
      else
        off = off + (s:byte(o + off + 2) + 1) * 8
      end
      nh = nxt
    end
    thoff, proto = off, nh
  end
  return { hotdrop = false, thoff = thoff, fragoff = fragoff, hooknum = hooknum }, proto
end

-- one rule: ok, netfilter verdict (or false, error: the kernel's fallback,
-- no match / XT_CONTINUE, lets the packet on)
local function callxt(h, hooknum, p)
  local par, proto = xtparams(p, hooknum)
  if h.proto ~= 0 and proto ~= h.proto then return true, 1 end   -- the rule is for another protocol
  local d = h.data
  resetdata(d, p.buf, p.net, p.buf.n - p.net, h.xt == 'match')   -- a match reads only
  local ok, r = pcall(h.ops[h.xt], d, par, XTARGS)
  cleardata(d)
  if not ok then return false, r end
  if h.xt == 'target' then
    r = tointeger(r)
    return true, (r >= 0 and r <= 5) and r or 1   -- anything else is XT_CONTINUE
  end
  if par.hotdrop then return true, 0 end
  return true, r and XTVERDICT or 1
end

-- after the main chunk: every rule's checkentry(userargs), as iptables adding it
local function xtcheck(hooks)
  local seen = {}
  for _, h in ipairs(hooks) do
    if h.xt and not seen[h.ops] then
      seen[h.ops] = true
      local ok, e = pcall(h.ops.checkentry, XTARGS)
      if not ok then return format("checkentry of xtable %s '%s' failed: %s", h.xt, h.name, tostring(e)) end
    end
  end
end
`;
