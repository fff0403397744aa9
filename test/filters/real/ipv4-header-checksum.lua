-- ipv4-header-checksum.lua: accept IPv4 packets whose header checksum is
-- right (one's-complement sum of the header's 16-bit words is 0xFFFF);
-- reject IPv4 packets with a bad checksum, a cut header, and anything that
-- is not IPv4.
--
-- Style: typed integer code: a numeric for over the header's 16-bit words
-- read through a layout on two-byte segments, end-around carry folding
-- with shifts and masks. Nothing dynamic: the baseline of the corpus.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4} }
local word = data.layout{ value = {0, 16} }

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 then return false end
  local hlen = pkt.ihl * 4
  if hlen < 20 or hlen > #pkt then return false end
  local sum = 0
  for off = 0, hlen - 2, 2 do
    sum = sum + pkt:segment(off, 2):layout(word).value
  end
  while sum > 0xFFFF do
    sum = (sum & 0xFFFF) + (sum >> 16)
  end
  return sum == 0xFFFF
end
