--
-- UDP port dropper with per-mark hooks, Lunatik's 2024 API: hook(data)
-- over the network layer, constants in netfilter.*, linux.ntoh16.
--
-- A first hook (priority MANGLE) marks UDP packets by direction: 0x1 for
-- a destination port under 1024, 0x2 otherwise, as an nft rule would. Two
-- hooks built by one closure factory then run only for their mark and drop
-- their ports.
--

local netfilter = require("netfilter")
local linux     = require("linux")

local family   = netfilter.family
local action   = netfilter.action
local hooks    = netfilter.inet_hooks
local priority = netfilter.ip_priority

local UDP = 17

local function udp_ports(pkt)
	if pkt:getuint8(0) >> 4 ~= 4 or pkt:getuint8(9) ~= UDP then
		return nil
	end
	if pkt:getuint16(6) & 0xFF1F ~= 0 then
		return nil    -- a fragment after the first: no UDP header here
	end
	local thoff = (pkt:getuint8(0) & 0x0F) * 4
	return linux.ntoh16(pkt:getuint16(thoff)), linux.ntoh16(pkt:getuint16(thoff + 2))
end

local function classify(pkt)
	local _, dport = udp_ports(pkt)
	if not dport then
		return action.ACCEPT
	end
	return action.ACCEPT, dport < 1024 and 0x1 or 0x2
end

local function dropper(ports)
	local set = {}
	for _, p in ipairs(ports) do set[p] = true end
	return function(pkt)
		local sport, dport = udp_ports(pkt)
		if set[sport] or set[dport] then
			return action.DROP
		end
		return action.ACCEPT
	end
end

netfilter.register{ hook = classify, pf = family.IPV4, hooknum = hooks.PRE_ROUTING, priority = priority.MANGLE }
netfilter.register{ hook = dropper{ 53, 123 }, pf = family.IPV4, hooknum = hooks.PRE_ROUTING,
	priority = priority.FILTER, mark = 0x1 }
netfilter.register{ hook = dropper{ 5353, 1900 }, pf = family.IPV4, hooknum = hooks.PRE_ROUTING,
	priority = priority.FILTER, mark = 0x2 }
