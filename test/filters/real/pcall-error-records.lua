-- pcall-error-records.lua: a strict IPv4/UDP/TCP header validator that
-- raises structured errors; accept packets that validate, and packets
-- whose only fault is a truncated payload (code 'short'); reject the
-- other faults (bad version, bad header length, bad lengths, bad ports).
--
-- Style: error({ code = ..., field = ... }) with a table value, caught by
-- pcall(f, pkt) and inspected (type(err) == 'table', err.code); error
-- with a string and a level elsewhere; a validator passed as a value to
-- pcall; tostring on the error field names.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, total = {16, 16}, proto = {72, 8}, frag = {51, 13} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16}, ulen = {32, 16} }

local function fail(code, field)
  error({ code = code, field = field })
end

local function validate(pkt)
  if pkt:layout(ip4).version ~= 4 then fail('version', 'version') end
  if pkt.ihl < 5 then fail('header', 'ihl') end
  if pkt.total < pkt.ihl * 4 then fail('length', 'total') end
  if pkt.total > #pkt then fail('short', 'total') end
  if pkt.frag ~= 0 or (pkt.proto ~= 6 and pkt.proto ~= 17) then return 'other' end
  local seg = pkt:segment(pkt.ihl * 4)
  if seg == nil then fail('short', 'transport') end
  seg:layout(ports)
  if seg.dport == nil then fail('short', 'ports') end
  if seg.sport == 0 or seg.dport == 0 then fail('ports', 'port') end
  if pkt.proto == 17 and seg.ulen ~= pkt.total - pkt.ihl * 4 then fail('length', 'udp') end
  return 'ok'
end

local function check(pkt)
  if #pkt == 0 then error('empty packet', 2) end
  return validate(pkt)
end

function filter(pkt)
  local ok, result = pcall(check, pkt)
  if ok then return result == 'ok' or result == 'other' end
  if type(result) == 'table' then
    return result.code == 'short' and tostring(result.field) ~= 'ports'
  end
  return false
end
