// Lunatik's kernel libraries as Lua source, part 1 of the chunk
// runtime/lunatik/engine.ts loads in place of the NPF `data` library: the
// shared locals, Lunatik's `data` (not luadata: lib/luadata.c), `byteorder`,
// the constant tables with x86-64 values and the control-plane stubs. Parts
// 2 (lib-skb-lua.ts: skb objects and the side effects a packet leaves), 3
// (lib-xtable-lua.ts: Xtables extensions) and 4 (lib-lua.ts: registration
// and dispatch) follow in the same chunk and see these locals.
//
// The chunk is prefixed by `local CONFIG = {...}` (engine.ts).
export const LUNATIK_DATA_LUA = String.raw`
local type, error, pcall, setmetatable, getmetatable, rawget, tostring, tonumber, select, ipairs, pairs, next, load =
  type, error, pcall, setmetatable, getmetatable, rawget, tostring, tonumber, select, ipairs, pairs, next, load
local unpack, pack, sub, rep, format, concat, sort = string.unpack, string.pack, string.sub, string.rep,
  string.format, table.concat, table.sort
local mtointeger, mtype = math.tointeger, math.type
local getinfo, gethook, sethook = debug.getinfo, debug.gethook, debug.sethook
local cocreate, coresume = coroutine.create, coroutine.resume
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

-- a buffer is { s = bytes, n = length, dirty = written }: s never shrinks
-- (a trimmed skb keeps its memory, so a view made before the trim still
-- reads it), n is where the packet ends
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
-- little-endian 16-bit words, folded and complemented (stored back
-- little-endian, the folded sum gives the right bytes on the wire)
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
  local buf = d[B]
  if n > #buf.s then buf.s = buf.s .. rep('\0', n - #buf.s) end
  buf.n = n
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
  return newdata({ s = rep('\0', n), n = n }, 0, n, false, true)
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
  signal = true, bpf = true, lighten = true, darken = true, net = true, ['socket.inet'] = true,
  ['socket.unix'] = true, ['socket.raw'] = true }

`;
