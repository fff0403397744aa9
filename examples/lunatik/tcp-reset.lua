--
-- TCP reset injector, Lunatik's 2026 API: hook(skb), skb:copy(),
-- skb:resize(), skb:checksum(), skb:forward(), constants in linux.nf,
-- byteorder. A connection attempt (SYN without ACK) to a closed port, over
-- IPv4 or IPv6, is dropped and answered with a reset: a copy of the SYN,
-- cut to the IP and TCP headers, addresses, ports and MAC addresses
-- swapped, RST+ACK acknowledging the SYN (RFC 9293 3.10.7.1), checksums
-- computed again, sent back out of the device it came in on.
--

local netfilter = require("netfilter")
local byteorder = require("byteorder")
local nf        = require("linux.nf")

local TCP = 6
local SYN, RST, ACK = 0x02, 0x04, 0x10
local TCP_HEADER = 20

local closed = { [22] = true, [443] = true }

-- the IP header's length and the transport protocol, for IPv4 and IPv6 (no extension headers)
local function ip_header(pkt)
	local version = pkt:getuint8(0) >> 4
	if version == 4 then
		return (pkt:getuint8(0) & 0x0F) * 4, pkt:getuint8(9), version
	elseif version == 6 then
		return 40, pkt:getuint8(6), version
	end
end

local function swap(d, a, b, len)
	local x, y = d:getstring(a, len), d:getstring(b, len)
	d:setstring(a, y)
	d:setstring(b, x)
end

local function reset_for(skb, hlen, version)
	local syn = skb:data("net")
	local seq = byteorder.ntoh32(syn:getuint32(hlen + 4))

	local rst = skb:copy()
	rst:resize(hlen + TCP_HEADER)
	local frame, pkt = rst:data("mac"), rst:data("net")
	swap(frame, 0, 6, 6)                       -- MAC addresses
	if version == 4 then
		swap(pkt, 12, 16, 4)
		pkt:setuint16(2, byteorder.hton16(hlen + TCP_HEADER))
		pkt:setuint8(8, 64)                    -- a fresh TTL
	else
		swap(pkt, 8, 24, 16)
		pkt:setuint16(4, byteorder.hton16(TCP_HEADER))
		pkt:setuint8(7, 64)                    -- hop limit
	end
	swap(pkt, hlen, hlen + 2, 2)               -- ports
	pkt:setuint32(hlen + 4, 0)                 -- seq 0: the SYN carried no ACK
	pkt:setuint32(hlen + 8, byteorder.hton32((seq + 1) & 0xFFFFFFFF))
	pkt:setuint8(hlen + 12, (TCP_HEADER // 4) << 4)
	pkt:setuint8(hlen + 13, RST | ACK)
	pkt:setuint16(hlen + 14, 0)                -- window
	pkt:setuint16(hlen + 18, 0)                -- urgent pointer
	rst:checksum()
	rst:forward()
end

local function tcp_reset(skb)
	local pkt = skb:data("net")
	local hlen, proto, version = ip_header(pkt)
	if proto ~= TCP or #pkt < hlen + TCP_HEADER then
		return nf.action.ACCEPT
	end
	local flags = pkt:getuint8(hlen + 13)
	local port = byteorder.ntoh16(pkt:getuint16(hlen + 2))
	if flags & (SYN | ACK | RST) ~= SYN or not closed[port] then
		return nf.action.ACCEPT
	end
	reset_for(skb, hlen, version)
	return nf.action.DROP
end

for _, family in ipairs{ nf.proto.IPV4, nf.proto.IPV6 } do
	netfilter.register{
		hook     = tcp_reset,
		pf       = family,
		hooknum  = nf.inet.LOCAL_IN,
		priority = nf.ip.pri.FILTER,
	}
end
