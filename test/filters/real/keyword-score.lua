-- keyword-score.lua: a keyword-scoring content rule. The TCP payload's
-- words are counted (case-folded) and scored against a weight table;
-- accept payloads scoring 5 or more, reject the rest.
--
-- Style: gmatch over '%a+' words into a frequency table, a weight table
-- with string keys, a scoring loop with pairs (the sum does not depend on
-- the order), math.min capping each word's contribution, string.lower.
local data = require'data'

local WEIGHTS = {
  http = 1, host = 1, cookie = 2, json = 2, javascript = 2, text = 1,
  gzip = 1, keep = 1, alive = 1, cache = 1, google = 2, ynet = 3, mozilla = 1,
}

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4} }

function filter(pkt)
  local seg
  if pkt:layout(ip4).version == 4 then
    if pkt.proto ~= 6 or pkt.frag ~= 0 then return false end
    seg = pkt:segment(pkt.ihl * 4)
  elseif pkt.version == 6 and pkt:layout(ip6).next == 6 then
    seg = pkt:segment(40)
  end
  if not seg or not seg:layout(tcp).doff then return false end
  local body = seg:segment(seg.doff * 4)
  if not body then return false end
  local freq = {}
  for word in tostring(body):gmatch('%a+') do
    word = word:lower()
    freq[word] = (freq[word] or 0) + 1
  end
  local score = 0
  for word, n in pairs(freq) do
    local w = WEIGHTS[word]
    if w then score = score + w * math.min(n, 3) end
  end
  return score >= 5
end
