-- dhcp-options.lua: accept DHCP (BOOTP over UDP 67/68) DISCOVER and
-- REQUEST messages that carry a host name option, and every ACK with a
-- lease time of at least an hour; reject other DHCP and non-DHCP traffic.
--
-- Style: a TLV walk over the options after the magic cookie into a table
-- keyed by option number (values are strings), message-type names from a
-- table, option 51 (lease time) decoded with string.unpack, hardware
-- address formatted with string.format and gsub.
local data = require'data'

local MESSAGE = { 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM' }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local udp = data.layout{ sport = {0, 16}, dport = {16, 16} }

local function options(s)
  if s:sub(237, 240) ~= '\99\130\83\99' then return nil end
  local opts, pos = {}, 241
  while pos <= #s do
    local code = s:byte(pos)
    if code == 255 then break end
    if code == 0 then
      pos = pos + 1
    else
      local len = s:byte(pos + 1)
      if len == nil then return nil end
      opts[code] = s:sub(pos + 2, pos + 1 + len)
      pos = pos + 2 + len
    end
  end
  return opts
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 17 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or not seg:layout(udp).dport then return false end
  local p = { [seg.sport] = true, [seg.dport] = true }
  if not (p[67] and p[68]) then return false end
  local body = seg:segment(8)
  if not body then return false end
  local s = tostring(body)
  local opts = options(s)
  if not opts or not opts[53] then return false end
  local kind = MESSAGE[opts[53]:byte()]
  local mac = s:sub(29, 34):gsub('.', function(c) return string.format('%02x:', c:byte()) end):sub(1, -2)
  if #mac ~= 17 then return false end
  if kind == 'DISCOVER' or kind == 'REQUEST' then return opts[12] ~= nil end
  if kind == 'ACK' and opts[51] and #opts[51] == 4 then
    return string.unpack('>I4', opts[51]) >= 3600
  end
  return false
end
