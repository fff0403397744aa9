-- tls-sni-watch.lua: accept TLS ClientHellos whose server name (SNI) is one
-- of the watched domains or below one; reject everything else.
--
-- Style: a string parser. The TCP payload becomes a Lua string
-- (tostring of a segment) walked with s:byte(i, j) (several results),
-- big-endian helpers that return nil past the end (`if not b then`), and a
-- record {} filled in as the parse goes. IPv4 (no non-first fragments) and
-- IPv6 without extension headers.
local data = require'data'

local WATCHED = { 'google.com', 'gstatic.com', 'googleapis.com', 'facebook.com', 'apple.com', 'whatsapp.net' }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, frag = {51, 13}, proto = {72, 8} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4} }

local function tcp_payload(pkt)
  local v = pkt:layout(ip4).version
  local seg
  if v == 4 then
    if pkt.proto ~= 6 or pkt.frag ~= 0 then return nil end
    seg = pkt:segment(pkt.ihl * 4)
  elseif v == 6 then
    if pkt:layout(ip6).next ~= 6 then return nil end
    seg = pkt:segment(40)
  else
    return nil
  end
  if not seg then return nil end
  local off = seg:layout(tcp).doff
  if not off then return nil end
  local p = seg:segment(off * 4)
  return p and tostring(p)
end

local function u16(s, i)
  local a, b = s:byte(i, i + 1)
  if not b then return nil end
  return a * 256 + b
end

-- A record of what the ClientHello in s says, or nil when s holds none.
local function parse_hello(s)
  local ctype, major = s:byte(1, 2)
  if ctype ~= 22 or major ~= 3 or s:byte(6) ~= 1 then return nil end
  local hello = { version = u16(s, 10), extensions = 0 }
  local pos = 44                      -- record (5) + handshake (4) + version (2) + random (32) + 1
  local sid = s:byte(pos)
  if not sid then return hello end
  pos = pos + 1 + sid
  local suites = u16(s, pos)
  if not suites then return hello end
  hello.suites = suites // 2
  pos = pos + 2 + suites
  local comp = s:byte(pos)
  if not comp then return hello end
  pos = pos + 1 + comp
  local total = u16(s, pos)
  if not total then return hello end
  pos = pos + 2
  local stop = pos + total
  while pos + 4 <= stop do
    local etype, elen = u16(s, pos), u16(s, pos + 2)
    if not elen then break end
    hello.extensions = hello.extensions + 1
    if etype == 0 then
      local n = u16(s, pos + 7)
      if n then hello.sni = s:sub(pos + 9, pos + 8 + n):lower() end
    elseif etype == 16 then
      hello.alpn = true
    end
    pos = pos + 4 + elen
  end
  return hello
end

local function watched(name)
  for _, d in ipairs(WATCHED) do
    if name == d or name:sub(-#d - 1) == '.' .. d then return true end
  end
  return false
end

function filter(pkt)
  local s = tcp_payload(pkt)
  if not s or #s < 6 then return false end
  local hello = parse_hello(s)
  return hello ~= nil and hello.sni ~= nil and watched(hello.sni)
end
