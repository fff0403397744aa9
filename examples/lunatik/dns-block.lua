--
-- DNS blocker, Lunatik's 2026 API: hook(skb), constants in linux.nf,
-- byteorder. Drops UDP queries to port 53 whose first question names a
-- blocked domain or one of its subdomains; everything else is accepted.
-- The blocklist and the name decoder live in a dotted module, as Lunatik
-- scripts split common code.
--

local netfilter = require("netfilter")
local byteorder = require("byteorder")
local nf        = require("linux.nf")
local names     = require("examples.lunatik.dns.names")

local UDP, DNS_PORT = 17, 53
local DNS_HEADER = 12

local blocked = names.set{
	"google.com",
	"gstatic.com",
	"facebook.net",
}

local function transport(pkt)
	local version = pkt:getuint8(0) >> 4
	if version == 4 then
		return pkt:getuint8(9), (pkt:getuint8(0) & 0x0F) * 4
	elseif version == 6 then
		return pkt:getuint8(6), 40
	end
end

local function dns_block(skb)
	local pkt = skb:data("net")
	local proto, thoff = transport(pkt)
	if proto ~= UDP or byteorder.ntoh16(pkt:getuint16(thoff + 2)) ~= DNS_PORT then
		return nf.action.ACCEPT
	end
	local flags = byteorder.ntoh16(pkt:getuint16(thoff + 8 + 2))
	if flags & 0x8000 ~= 0 then
		return nf.action.ACCEPT    -- a response
	end
	local name = names.decode(pkt, thoff + 8 + DNS_HEADER)
	if name and names.matches(blocked, name) then
		return nf.action.DROP
	end
	return nf.action.ACCEPT
end

netfilter.register{
	hook     = dns_block,
	pf       = nf.proto.INET,
	hooknum  = nf.inet.LOCAL_OUT,
	priority = nf.ip.pri.FILTER,
}
