-- mdns-services.lua: accept mDNS/LLMNR packets (UDP 5353 or 5355) that
-- mention a DNS-SD service name ("_name._tcp" or "_name._udp") anywhere
-- in their questions or records; reject everything else.
--
-- Style: names decoded with compression pointers by a recursive local
-- function (a pointer is a tail call on the target), every name of the
-- message gathered into an array; gmatch over each name with a capture,
-- and a set of the services seen (state across packets, counted).
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8} }
local ip6 = data.layout{ next = {48, 8} }
local udp = data.layout{ sport = {0, 16}, dport = {16, 16} }

local services, nservices = {}, 0

local function name_at(s, pos, acc, depth)
  if depth > 10 then return nil end
  local len = s:byte(pos)
  if len == nil then return nil end
  if len == 0 then return acc, pos + 1 end
  if len >= 0xC0 then
    local lo = s:byte(pos + 1)
    if lo == nil then return nil end
    local name = name_at(s, ((len - 0xC0) * 256 + lo) + 1, acc, depth + 1)
    return name, pos + 2
  end
  local label = s:sub(pos + 1, pos + len)
  return name_at(s, pos + 1 + len, acc == '' and label or acc .. '.' .. label, depth)
end

local function all_names(s)
  local counts = { string.unpack('>I2I2I2I2', s, 5) }
  local total = counts[1] + counts[2] + counts[3] + counts[4]
  local names, pos = {}, 13
  for i = 1, total do
    local name, after = name_at(s, pos, '', 0)
    if name == nil then break end
    names[#names + 1] = name
    if i <= counts[1] then
      pos = after + 4
    else
      if after + 10 > #s then break end
      local rdlen = string.unpack('>I2', s, after + 8)
      pos = after + 10 + rdlen
    end
  end
  return names
end

function filter(pkt)
  local seg
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.proto == 17 then seg = pkt:segment(pkt.ihl * 4)
  elseif v == 6 and pkt:layout(ip6).next == 17 then seg = pkt:segment(40) end
  if not seg then return false end
  seg:layout(udp)
  local p = seg.dport
  if p ~= 5353 and p ~= 5355 and seg.sport ~= 5353 then return false end
  local msg = seg:segment(8)
  if not msg or #msg < 12 then return false end
  local found = false
  for _, name in ipairs(all_names(tostring(msg))) do
    for service, proto in name:gmatch('(_[%w%-]+)%.(_%a+)') do
      if proto == '_tcp' or proto == '_udp' then
        found = true
        if not services[service] then
          services[service] = true
          nservices = nservices + 1
        end
      end
    end
  end
  return found
end
