--
-- SSH version match, Lunatik's xtable API (until 2026-03): an Xtables match
-- extension for iptables rules such as
--   iptables -A INPUT -p tcp -m sshversion --software OpenSSH_7.4p1 -j DROP
-- The rule's userargs name the software version; the match is true for a
-- TCP segment (to or from port 22) whose payload is an SSH identification
-- line "SSH-protoversion-softwareversion[ comments]" naming it. In luapf
-- the rule is given by --xt-args (userargs) and --xt-target (DROP).
--

local xtable    = require("xtable")
local netfilter = require("netfilter")
local linux     = require("linux")

local TCP, SSH_PORT = 6, 22

local function software(userargs)
	return (userargs:gsub("%z+$", ""))
end

local function ssh_version(data, par, userargs)
	local sport = linux.ntoh16(data:getuint16(par.thoff))
	local dport = linux.ntoh16(data:getuint16(par.thoff + 2))
	if sport ~= SSH_PORT and dport ~= SSH_PORT then
		return false
	end
	local payload = par.thoff + (data:getuint8(par.thoff + 12) >> 4) * 4
	if payload + 8 > #data then
		return false
	end
	local line = data:getstring(payload, math.min(#data - payload, 255))
	local version = line:match("^SSH%-[^-]+%-([^ \r\n]+)")
	return version ~= nil and version == software(userargs)
end

xtable.match{
	name       = "sshversion",
	revision   = 0,
	family     = netfilter.family.INET,
	proto      = TCP,
	hooks      = (1 << netfilter.inet_hooks.LOCAL_IN) | (1 << netfilter.inet_hooks.FORWARD),
	match      = ssh_version,
	checkentry = function(userargs)
		if software(userargs) == "" then
			error("sshversion: give the software version to match (--software)")
		end
	end,
	destroy    = function(userargs) end,
}
