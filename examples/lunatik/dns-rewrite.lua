--
-- DNS answer rewriter, Lunatik's Dec 2024 - Mar 2026 API: hook(data,
-- ifindex) with data from the MAC header, constants in netfilter.*,
-- byteorder, data:checksum (2026-02). In DNS responses over IPv4 whose
-- question names a listed domain or a subdomain of one, every A record of
-- the answer section is pointed at a sinkhole address and every answer's
-- TTL set to one minute; the UDP checksum is then computed again. Written
-- for hooks on an Ethernet device (the MAC header is 14 bytes: the kernel
-- has taken any VLAN tag off). Every packet is accepted.
--

local netfilter = require("netfilter")
local byteorder = require("byteorder")
local data      = require("data")
local names     = require("examples.lunatik.dns.names")

local ETH, ETH_P_IP, UDP, DNS_PORT = 14, 0x0800, 17, 53
local DNS_HEADER, TYPE_A, CLASS_IN = 12, 1, 1
local SINKHOLE = { 192, 0, 2, 1 }   -- TEST-NET-1
local TTL = 60

local rewritten = names.set{
	"google.com",
	"gstatic.com",
}

-- the offset just past the (possibly compressed) name at off, or nil past `limit`
local function skip_name(pkt, off, limit)
	while off < limit do
		local len = pkt:getuint8(off)
		if len == 0 then
			return off + 1
		elseif len >= 0xC0 then
			return off + 2
		end
		off = off + 1 + len
	end
	return nil
end

-- the UDP checksum over the pseudo-header and the datagram, as the stack computes it
local function fix_udp_checksum(pkt, ip, udp, len)
	pkt:setuint16(udp + 6, 0)
	local pseudo = data.new(12)
	pseudo:setstring(0, pkt:getstring(ip + 12, 8))   -- source and destination addresses
	pseudo:setuint8(8, 0)
	pseudo:setuint8(9, UDP)
	pseudo:setuint16(10, byteorder.hton16(len))
	-- data:checksum gives the folded sum's complement: undo it, add, fold, complement
	local sum = (~pseudo:checksum() & 0xFFFF) + (~pkt:checksum(udp, len) & 0xFFFF)
	sum = (sum & 0xFFFF) + (sum >> 16)
	local check = ~sum & 0xFFFF
	pkt:setuint16(udp + 6, check == 0 and 0xFFFF or check)
end

local function rewrite_answers(pkt, dns, limit)
	local questions = byteorder.ntoh16(pkt:getuint16(dns + 4))
	local answers = byteorder.ntoh16(pkt:getuint16(dns + 6))
	local off = dns + DNS_HEADER
	for _ = 1, questions do
		off = skip_name(pkt, off, limit)
		if not off then return false end
		off = off + 4
	end
	local changed = false
	for _ = 1, answers do
		off = skip_name(pkt, off, limit)
		if not off or off + 10 > limit then return changed end
		local rtype = byteorder.ntoh16(pkt:getuint16(off))
		local class = byteorder.ntoh16(pkt:getuint16(off + 2))
		local rdlength = byteorder.ntoh16(pkt:getuint16(off + 8))
		if off + 10 + rdlength > limit then return changed end
		pkt:setuint32(off + 4, byteorder.hton32(TTL))
		if rtype == TYPE_A and class == CLASS_IN and rdlength == 4 then
			for i = 1, 4 do
				pkt:setuint8(off + 10 + i - 1, SINKHOLE[i])
			end
		end
		changed = true
		off = off + 10 + rdlength
	end
	return changed
end

local function dns_rewrite(pkt, ifindex)
	if #pkt < ETH + 20 or byteorder.ntoh16(pkt:getuint16(12)) ~= ETH_P_IP then
		return netfilter.action.ACCEPT
	end
	local ip = ETH
	local ihl = (pkt:getuint8(ip) & 0x0F) * 4
	local fragment = byteorder.ntoh16(pkt:getuint16(ip + 6)) & 0x3FFF
	local total = byteorder.ntoh16(pkt:getuint16(ip + 2))
	local udp = ip + ihl
	if pkt:getuint8(ip + 9) ~= UDP or fragment ~= 0 or ip + total > #pkt or udp + 8 + DNS_HEADER > ip + total then
		return netfilter.action.ACCEPT
	end
	local dns = udp + 8
	local flags = byteorder.ntoh16(pkt:getuint16(dns + 2))
	if byteorder.ntoh16(pkt:getuint16(udp)) ~= DNS_PORT or flags & 0x8000 == 0 then
		return netfilter.action.ACCEPT    -- not a response from a DNS server
	end
	local name = names.decode(pkt, dns + DNS_HEADER)
	if not (name and names.matches(rewritten, name)) then
		return netfilter.action.ACCEPT
	end
	if rewrite_answers(pkt, dns, ip + total) and pkt:getuint16(udp + 6) ~= 0 then
		fix_udp_checksum(pkt, ip, udp, total - ihl)
	end
	return netfilter.action.ACCEPT
end

netfilter.register{
	hook     = dns_rewrite,
	pf       = netfilter.family.INET,
	hooknum  = netfilter.inet_hooks.PRE_ROUTING,
	priority = netfilter.ip_priority.MANGLE,
}
