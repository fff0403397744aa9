-- tls-cipher-fingerprint.lua: accept the first ClientHello of every
-- distinct client fingerprint (TLS version, cipher suites, extension
-- types, as in JA3), reject repeats and everything that is not a
-- ClientHello: a "new client software" alarm.
--
-- Style: arrays built then scanned and joined. Suites and extensions are
-- collected into arrays (GREASE values skipped with a bitwise test),
-- formatted with string.format('%04x') and joined with table.concat; the
-- fingerprints seen so far are a module-level set of strings (state
-- across packets). Lengths come from a layout on segments; the bodies are
-- read from the payload string.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4} }
local rec = data.layout{ ctype = {0, 8}, hstype = {40, 8}, version = {72, 16} }

local seen = {}
local nseen = 0

local function is_grease(v)
  return v & 0x0f0f == 0x0a0a and v >> 8 == v & 0xff
end

local function be16(s, i)
  local hi, lo = s:byte(i, i + 1)
  return hi and lo and (hi << 8 | lo)
end

local function fingerprint(s, version)
  local suites, exts = {}, {}
  local pos = 44
  local sid = s:byte(pos)
  if sid == nil then return nil end
  pos = pos + 1 + sid
  local n = be16(s, pos)
  if n == nil then return nil end
  for i = pos + 2, pos + 1 + n, 2 do
    local v = be16(s, i)
    if v == nil then return nil end
    if not is_grease(v) then suites[#suites + 1] = string.format('%04x', v) end
  end
  pos = pos + 2 + n
  local comp = s:byte(pos)
  if comp == nil then return nil end
  pos = pos + 1 + comp
  local total = be16(s, pos)
  if total ~= nil then
    pos = pos + 2
    local stop = math.min(pos + total, #s + 1)
    while pos + 4 <= stop do
      local t, len = be16(s, pos), be16(s, pos + 2)
      if not is_grease(t) then exts[#exts + 1] = tostring(t) end
      pos = pos + 4 + len
    end
  end
  return version .. ',' .. table.concat(suites, '-') .. ',' .. table.concat(exts, '-')
end

function filter(pkt)
  local seg
  if pkt:layout(ip4).version == 4 then
    if pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
    seg = pkt:segment(pkt.ihl * 4)
  elseif pkt.version == 6 and pkt:layout(ip6).next == 6 then
    seg = pkt:segment(40)
  end
  if seg == nil or seg:layout(tcp).doff == nil then return false end
  local payload = seg:segment(seg.doff * 4)
  if payload == nil then return false end
  payload:layout(rec)
  if payload.ctype ~= 22 or payload.hstype ~= 1 or payload.version == nil then return false end
  local fp = fingerprint(tostring(payload), payload.version)
  if fp == nil or seen[fp] then return false end
  seen[fp] = true
  nseen = nseen + 1
  return true
end
