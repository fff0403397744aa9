-- ssh-banner-version.lua: accept SSH version banners ("SSH-2.0-...") from
-- software that is current enough: protocol 2.0 (or 1.99), and for
-- OpenSSH a version of 7.0 or later; reject SSH-1.x banners, older
-- OpenSSH, and every packet without a banner.
--
-- Style: the banner split with captures, tonumber on "2.0" (a float) and
-- compared with numbers, a version string "7.4p1" cut into a number with
-- a pattern and tonumber, `and`/`or` chains over values that may be nil.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local tcp = data.layout{ doff = {96, 4} }

local function banner(pkt)
  local seg
  if pkt:layout(ip4).version == 4 and pkt.proto == 6 and pkt.frag == 0 then seg = pkt:segment(pkt.ihl * 4)
  elseif pkt.version == 6 and pkt:layout(ip6).next == 6 then seg = pkt:segment(40) end
  if not seg or not seg:layout(tcp).doff then return nil end
  local body = seg:segment(seg.doff * 4)
  if not body then return nil end
  return tostring(body):match('^SSH%-([%d%.]+)%-(%S+)')   -- two captures: both returned
end

function filter(pkt)
  local proto, software = banner(pkt)
  if proto == nil then return false end
  local pv = tonumber(proto)
  if pv == nil or (pv < 2 and pv ~= 1.99) then return false end
  local name, version = software:match('^([%a_]+)_([%d%.]+)')
  if name ~= 'OpenSSH' then return true end
  local major = tonumber(version:match('^(%d+%.?%d*)'))
  return major ~= nil and major >= 7.0
end
