-- memoize-classifier.lua: classify DNS query names into categories
-- (ads/analytics, CDN, social, other) with a memoized classifier, and
-- accept queries for ads/analytics and social names; reject other queries
-- and other traffic.
--
-- Style: a memoize(f) higher-order function returning a closure that
-- caches f's results in a table keyed by the argument (results may be
-- false, so the cache stores them in a box table); the classifier is a
-- list of {pattern, category} pairs; a counter closure over hits.
local data = require'data'

local CATEGORIES = {
  { 'doubleclick', 'ads' }, { 'analytics', 'ads' }, { 'googlesyndication', 'ads' }, { 'adservice', 'ads' },
  { 'akamai', 'cdn' }, { 'gstatic', 'cdn' }, { 'cloudfront', 'cdn' }, { 'googleusercontent', 'cdn' },
  { 'facebook', 'social' }, { 'fbcdn', 'social' }, { 'twitter', 'social' }, { 'whatsapp', 'social' },
}

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local udp = data.layout{ dport = {16, 16} }

local function memoize(f)
  local cache, hits = {}, 0
  return function(x)
    local box = cache[x]
    if box then
      hits = hits + 1
      return box[1]
    end
    local r = f(x)
    cache[x] = { r }
    return r
  end, function() return hits end
end

local classify, cache_hits = memoize(function(name)
  for _, c in ipairs(CATEGORIES) do
    if name:find(c[1], 1, true) then return c[2] end
  end
  return false
end)

local function qname(s)
  local parts, pos = {}, 13
  repeat
    local len = s:byte(pos)
    if len == nil or len >= 64 then return nil end
    if len > 0 then parts[#parts + 1] = s:sub(pos + 1, pos + len) end
    pos = pos + len + 1
  until len == 0
  return table.concat(parts, '.'):lower()
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 17 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or seg:layout(udp).dport ~= 53 then return false end
  local msg = seg:segment(8)
  if not msg or #msg < 13 then return false end
  local name = qname(tostring(msg))
  if not name then return false end
  local category = classify(name)
  return (category == 'ads' or category == 'social') and cache_hits() >= 0
end
