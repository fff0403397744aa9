-- An independent reference runner for luapf filter scripts, in plain Lua 5.4.
--
-- It shares no code with luapf: a minimal pcap/pcapng reader, the link-layer
-- strip of DESIGN.md §2 and a straightforward `data` library written from
-- DESIGN.md §3 (bit by bit, favouring obviousness over speed). The example
-- tests compare its counts with the expected table, so a bug in luapf's
-- engines and a bug here would have to agree to go unnoticed.
--
-- Each packet is passed as filter(pkt, time): `time` is its capture time as
-- an integer count of nanoseconds since the Unix epoch (docs/SEMANTICS.md),
-- computed here from the pcap magic (us/ns) or the pcapng interface's
-- if_tsresol / if_tsoffset options; a pcapng Simple Packet Block gives 0.
--
-- usage: lua5.4 harness.lua [--layer 2|3] [--list] [--on-error pass] FILTER.lua CAPTURE...
-- prints one line per capture: name <TAB> packets <TAB> accepted <TAB> rejected <TAB> errors
-- --list adds a line "accepted: N N ..." with the 1-based numbers of accepted packets.

---------------------------------------------------------------- data library

local View = {}          -- metatable of data views
local methods = {}       -- view methods; they win over layout field names
local LAYOUT = {}        -- marker key of normalized layouts

local function view(s, o, n)
  return setmetatable({ s = s, o = o, n = n, lay = nil }, View)
end

local function first_letter(v, default)
  if v == nil then return default end
  if type(v) ~= 'string' or #v == 0 then error('bad layout type/endian: ' .. tostring(v), 3) end
  return v:sub(1, 1):lower()
end

-- Normalizes a layout table: name -> {offset, length, kind 'n'|'s', little}.
local function normalize(t)
  if rawget(t, LAYOUT) then return t end
  local out = { [LAYOUT] = true }
  for name, spec in pairs(t) do
    if type(spec) == 'table' then
      local kind = first_letter(spec.type or spec[3], 'n')
      local endian = first_letter(spec.endian or spec[4], 'b')
      if kind ~= 'n' and kind ~= 's' then error('bad field type for ' .. tostring(name), 3) end
      if endian ~= 'n' and endian ~= 'b' and endian ~= 'l' and endian ~= 'h' then
        error('bad field endian for ' .. tostring(name), 3)
      end
      out[name] = {
        offset = math.tointeger(spec.offset or spec[1]),
        length = math.tointeger(spec.length or spec[2]),
        kind = kind,
        little = endian == 'l' or endian == 'h',
      }
    end
  end
  return out
end

local function byte_at(d, i) -- i: 0-based byte index inside the view
  return string.byte(d.s, d.o + i + 1)
end

local function read_number(d, f)
  local off, w = f.offset, f.length
  if off == nil or w == nil or w <= 0 or w > 64 or off < 0 then return nil end
  if off + w > d.n * 8 then return nil end
  local v = 0
  for bit = off, off + w - 1 do          -- MSB-0: bit 0 is the top bit of byte 0
    local b = byte_at(d, bit // 8)
    v = (v << 1) | ((b >> (7 - bit % 8)) & 1)
  end
  if f.little and w > 8 then
    if w % 8 ~= 0 then error('harness: little-endian field of ' .. w .. ' bits is not supported', 3) end
    local r = 0
    for _ = 1, w // 8 do r = (r << 8) | (v & 0xFF); v = v >> 8 end
    v = r
  end
  return v
end

local function read_string(d, f)
  local off, len = f.offset, f.length
  if off == nil or len == nil or off < 0 or len < 0 or off + len > d.n then return nil end
  return string.sub(d.s, d.o + off + 1, d.o + off + len)
end

function View.__index(d, k)
  local m = methods[k]
  if m then return m end
  local lay = rawget(d, 'lay')
  if lay == nil then return nil end
  local f = lay[k]
  if type(f) ~= 'table' then return nil end
  if f.kind == 's' then return read_string(d, f) end
  return read_number(d, f)
end

function View.__newindex() error('harness: data views are read-only', 2) end
function View.__len(d) return d.n end
function View.__tostring(d) return string.sub(d.s, d.o + 1, d.o + d.n) end

local function int_arg(v, what)
  if v == nil then return nil end
  local i = math.tointeger(v)
  if i == nil then error('bad argument to segment: ' .. what .. ' must be an integer', 3) end
  return i
end

function methods.layout(d, t)
  if type(t) ~= 'table' then error('bad argument to layout: table expected', 2) end
  rawset(d, 'lay', normalize(t))
  return d
end

function methods.segment(d, o, len)
  o = int_arg(o, 'offset') or 0
  if o < 0 or o >= d.n then return nil end
  len = int_arg(len, 'length') or (d.n - o)
  if len < 0 or o + len > d.n then return nil end
  return view(d.s, d.o + o, len)
end

local data = {}
function data.layout(t) return normalize(t) end
function data.new(x)
  if type(x) == 'string' then return view(x, 0, #x) end
  local n = math.tointeger(x)
  if n == nil or n <= 0 then error('bad argument to data.new', 2) end
  return view(string.rep('\0', n), 0, n)
end

---------------------------------------------------------------- capture reading

-- Calls emit(linktype, bytes, time_ns) for every packet record of a pcap or pcapng file.
local function read_pcap(buf, emit)
  local magic = string.unpack('<I4', buf, 1)
  local e
  if magic == 0xa1b2c3d4 or magic == 0xa1b23c4d then e = '<'
  elseif magic == 0xd4c3b2a1 or magic == 0x4d3cb2a1 then e = '>'
  else error('not a pcap file') end
  local ns_per_frac = (magic == 0xa1b23c4d or magic == 0x4d3cb2a1) and 1 or 1000
  local major = string.unpack(e .. 'I2', buf, 5)
  if major ~= 2 then error('unsupported pcap version ' .. major) end
  local linktype = string.unpack(e .. 'I4', buf, 21) & 0xFFFF
  local pos = 25
  while pos + 16 <= #buf + 1 do
    local sec, frac, caplen = string.unpack(e .. 'I4I4I4', buf, pos)
    if pos + 16 + caplen > #buf + 1 then error('truncated record at offset ' .. (pos - 1)) end
    -- a fraction of a second or more is carried into the seconds, like luapf's reader
    emit(linktype, buf:sub(pos + 16, pos + 15 + caplen), sec * 1000000000 + frac * ns_per_frac)
    pos = pos + 16 + caplen
  end
end

local function read_pcapng(buf, emit)
  local pos, e, ifaces = 1, '<', {}
  while pos + 12 <= #buf + 1 do
    local btype = string.unpack(e .. 'I4', buf, pos)
    if btype == 0x0A0D0D0A then   -- section header: byte order may change here
      local bom = string.unpack('<I4', buf, pos + 8)
      if bom == 0x1A2B3C4D then e = '<' elseif bom == 0x4D3C2B1A then e = '>'
      else error('bad pcapng byte-order magic') end
      ifaces = {}
    end
    local blen = string.unpack(e .. 'I4', buf, pos + 4)
    if blen < 12 or pos + blen > #buf + 1 then error('bad pcapng block length at ' .. (pos - 1)) end
    local body = pos + 8
    if btype == 1 then            -- interface description
      local lt, _, snap = string.unpack(e .. 'I2I2I4', buf, body)
      local iface = { linktype = lt, snaplen = snap, div = 1000000, offset = 0 }
      local q = body + 8
      while q + 4 <= pos + blen - 4 do
        local code, olen = string.unpack(e .. 'I2I2', buf, q)
        if code == 0 then break end
        if code == 9 and olen >= 1 then   -- if_tsresol: MSB clear 10^-n s, set 2^-n s
          local r = buf:byte(q + 4)
          iface.div = (r & 0x80) ~= 0 and (1 << (r & 0x7F)) or math.tointeger(10 ^ (r & 0x7F))
          if iface.div == nil or iface.div > (1 << 33) then error('harness: unsupported if_tsresol ' .. r) end
        elseif code == 14 and olen == 8 then  -- if_tsoffset: seconds
          iface.offset = string.unpack(e .. 'i8', buf, q + 4)
        end
        q = q + 4 + (olen + 3) // 4 * 4
      end
      ifaces[#ifaces + 1] = iface
    elseif btype == 6 or btype == 2 then  -- enhanced / obsolete packet block
      local id, hi, lo, caplen
      if btype == 6 then id, hi, lo, caplen = string.unpack(e .. 'I4I4I4I4', buf, body)
      else id, _, hi, lo, caplen = string.unpack(e .. 'I2I2I4I4I4', buf, body) end
      local iface = assert(ifaces[id + 1], 'packet block for unknown interface')
      local units = (hi << 32) | lo     -- below 2^63 for any real capture
      local time = (units // iface.div + iface.offset) * 1000000000 + (units % iface.div) * 1000000000 // iface.div
      emit(iface.linktype, buf:sub(body + 20, body + 19 + caplen), time)
    elseif btype == 3 then        -- simple packet: interface 0, no caplen field, no time
      local iface = assert(ifaces[1], 'SPB without interface')
      local origlen = string.unpack(e .. 'I4', buf, body)
      local caplen = math.min(origlen, blen - 16)
      if iface.snaplen > 0 then caplen = math.min(caplen, iface.snaplen) end
      emit(iface.linktype, buf:sub(body + 4, body + 3 + caplen), 0)
    end
    pos = pos + blen
  end
end

-- DESIGN.md §2: the network-layer packet of a frame (0-based offset of pkt).
local VLAN = { [0x8100] = true, [0x88a8] = true, [0x9100] = true }
local function network_offset(linktype, frame)
  if linktype == 1 then
    local off = 14
    if #frame < off then return nil end
    while #frame >= off + 4 and VLAN[string.unpack('>I2', frame, off - 1)] do off = off + 4 end
    return off
  elseif linktype == 0 then return 4
  elseif linktype == 101 or linktype == 12 or linktype == 228 or linktype == 229 then return 0
  elseif linktype == 113 then return 16
  elseif linktype == 276 then return 20
  end
  error('unsupported link type ' .. linktype)
end

---------------------------------------------------------------- running

local function sandbox()
  local env = {}
  for _, k in ipairs { 'assert', 'error', 'getmetatable', 'ipairs', 'next', 'pairs', 'pcall',
                       'rawequal', 'rawget', 'rawlen', 'rawset', 'select', 'setmetatable',
                       'tonumber', 'tostring', 'type', 'xpcall', '_VERSION' } do
    env[k] = _G[k]
  end
  env.string = setmetatable({ dump = nil }, { __index = string })
  env.table, env.math = table, math
  env.require = function(name)
    if name == 'data' then return data end
    error("module '" .. tostring(name) .. "' not found", 2)
  end
  env.print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    io.stderr:write(table.concat(parts, '\t'), '\n')
  end
  env._G = env
  return env
end

local FUEL = 1000000
local function fuel_out() error('fuel exhausted', 2) end

-- DESIGN.md §3 test vectors, so the reference library is itself checked.
local function selftest()
  local function d(hex) return data.new((hex:gsub('%x%x', function(h) return string.char(tonumber(h, 16)) end))) end
  local vectors = {
    { 'FFAB', {0, 4}, 0xF }, { 'FFAB', {4, 4}, 0xF }, { 'FFAB', {4, 8}, 0xFA }, { 'FFAB', {3, 7}, 0x7E },
    { 'FFAB', {9, 7}, 0x2B }, { 'FFAB', {15, 1}, 1 }, { 'FFAB', {0, 16}, 0xFFAB },
    { 'FFAB', {0, 16, 'number', 'little'}, 0xABFF }, { 'FFAB', {16, 1}, nil }, { 'FFAB', {8, 9}, nil },
    { 'AABBCCDD', {20, 9}, 0x19B }, { 'AABBCCDD', {32, 1}, nil },
    { 'AABBCCDD', {offset = 1, length = 2, type = 'string'}, '\xBB\xCC' },
    { '8000000000000001', {0, 64}, math.mininteger + 1 }, { 'FFAB', {0, 0}, nil },
  }
  for i, v in ipairs(vectors) do
    local got = d(v[1]):layout({ f = v[2] }).f
    if got ~= v[3] then error(('vector %d: got %s, want %s'):format(i, tostring(got), tostring(v[3]))) end
  end
  local rtp = d('80A2'):layout{ version = {0, 2}, extension = {3, 1}, csrc_count = {4, 4}, marker = {8, 1}, type = {9, 7} }
  assert(rtp.version == 2 and rtp.extension == 0 and rtp.csrc_count == 0 and rtp.marker == 1 and rtp.type == 34)
  local v = d('00010203')
  assert(#v:segment(1) == 3 and #v:segment(1, 2) == 2 and v:segment(4) == nil and v:segment(0, 5) == nil)
  assert(v:segment(-1) == nil and v:segment(2, -1) == nil and tostring(v:segment(2, 1)) == '\2')
  assert(v:segment(1):layout{ b = {0, 8} }.b == 1 and v:segment(1).b == nil)
  assert(v:layout{ segment = {0, 8} }.segment == methods.segment)
  print('selftest ok')
end

local function main(args)
  if args[1] == '--selftest' then return selftest() end
  local layer, list, on_error_pass, files = 3, false, false, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == '--layer' then i = i + 1; layer = tonumber(args[i])
    elseif a == '--list' then list = true
    elseif a == '--on-error' then i = i + 1; on_error_pass = args[i] == 'pass'
    else files[#files + 1] = a end
    i = i + 1
  end
  if #files < 2 then
    io.stderr:write('usage: lua5.4 harness.lua [--layer 2|3] [--list] [--on-error pass] FILTER.lua CAPTURE...\n')
    os.exit(2)
  end
  local script = table.remove(files, 1)
  local env = sandbox()
  local chunk, err = loadfile(script, 't', env)
  if not chunk then io.stderr:write(err, '\n'); os.exit(1) end
  chunk()                           -- one Lua state for the whole run (DESIGN.md §2)
  local filter = env.filter
  if type(filter) ~= 'function' then io.stderr:write(script .. ': no global function filter\n'); os.exit(1) end

  for _, path in ipairs(files) do
    local fh = assert(io.open(path, 'rb'))
    local buf = fh:read('a'); fh:close()
    local counts = { packets = 0, accepted = 0, rejected = 0, errors = 0 }
    local accepted_list, first_errors = {}, {}
    local function emit(linktype, frame, time)
      counts.packets = counts.packets + 1
      local pkt
      if layer == 2 then pkt = view(frame, 0, #frame)
      else
        local off = network_offset(linktype, frame)
        if off == nil or off > #frame then pkt = view('', 0, 0)
        else pkt = view(frame, off, #frame - off) end
      end
      debug.sethook(fuel_out, '', FUEL)
      local ok, verdict = pcall(filter, pkt, time)
      debug.sethook()
      local accept
      if ok then accept = verdict ~= nil and verdict ~= false
      else
        counts.errors = counts.errors + 1
        if #first_errors < 3 then first_errors[#first_errors + 1] = counts.packets .. ': ' .. tostring(verdict) end
        accept = on_error_pass
      end
      if accept then
        counts.accepted = counts.accepted + 1
        accepted_list[#accepted_list + 1] = counts.packets
      else counts.rejected = counts.rejected + 1 end
    end
    local magic = string.unpack('<I4', buf, 1)
    local ok, rerr = pcall(magic == 0x0A0D0D0A and read_pcapng or read_pcap, buf, emit)
    local name = path:match('[^/]+$')
    print(string.format('%s\t%d\t%d\t%d\t%d', name, counts.packets, counts.accepted, counts.rejected, counts.errors))
    if list then print('accepted: ' .. table.concat(accepted_list, ' ')) end
    for _, e in ipairs(first_errors) do io.stderr:write(name, ': packet ', e, '\n') end
    if not ok then io.stderr:write(name, ': read error: ', tostring(rerr), '\n') end
  end
end

main(arg)
