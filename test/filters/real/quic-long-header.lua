-- quic-long-header.lua: accept QUIC long-header packets (UDP, first byte
-- with the top bit set) whose version is QUIC v1, a draft (0xff0000xx) or
-- Google QUIC ("Q0xx"), and whose connection IDs are at most 20 bytes;
-- reject short-header packets and non-QUIC UDP.
--
-- Style: a version classifier returning a string or nil from a chain of
-- tests, string.unpack of a 32-bit version, `string.char` to check the
-- gQUIC tag, lengths read with s:byte where the byte may be missing.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local udp = data.layout{ sport = {0, 16}, dport = {16, 16} }

local function classify(version, tag)
  if version == 1 then return 'v1' end
  if version >> 8 == 0xff0000 then return 'draft-' .. (version & 0xff) end
  if tag:match('^Q0%d%d$') then return 'gquic' end
  return nil
end

function filter(pkt)
  local seg
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.proto == 17 and pkt.frag == 0 then seg = pkt:segment(pkt.ihl * 4)
  elseif v == 6 and pkt:layout(ip6).next == 17 then seg = pkt:segment(40) end
  if not seg or not seg:layout(udp).dport then return false end
  if seg.dport ~= 443 and seg.sport ~= 443 and seg.dport ~= 4433 and seg.sport ~= 4433 then return false end
  local body = seg:segment(8)
  if not body or #body < 7 then return false end
  local s = tostring(body)
  local first = s:byte(1)
  if first & 0x80 == 0 then
    -- gQUIC puts its version right after the flags and an 8-byte CID
    if first & 0x01 ~= 0 and #s >= 13 then return classify(0, s:sub(10, 13)) == 'gquic' end
    return false
  end
  local version = string.unpack('>I4', s, 2)
  local kind = classify(version, s:sub(2, 5))
  if kind == nil then return false end
  if kind == 'gquic' then return true end
  local dcid = s:byte(6)
  local scid = dcid and s:byte(7 + dcid)
  return scid ~= nil and dcid <= 20 and scid <= 20
end
