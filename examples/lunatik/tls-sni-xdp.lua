--
-- TLS SNI filter for XDP: xdp.attach(cb) with cb(packet, argument), where
-- packet is the whole frame and argument carries the TCP payload's offset
-- in the frame, big-endian, as an eBPF program passes it (luapf computes
-- it: --xdp-arg payload-offset, the default). Drops ClientHellos naming a
-- blocked server; passes everything else.
--

local xdp       = require("xdp")
local byteorder = require("byteorder")
local action    = require("linux.xdp")

local blocked = {
	["www.google.com"] = true,
	["ssl.gstatic.com"] = true,
}

local HANDSHAKE, CLIENT_HELLO, SERVER_NAME = 0x16, 0x01, 0x0000

local function reader(packet, base)
	local function u8(off) return packet:getuint8(base + off) end
	local function u16(off) return byteorder.ntoh16(packet:getuint16(base + off)) end
	local function str(off, len) return packet:getstring(base + off, len) end
	return u8, u16, str
end

local function server_name(u8, u16, str)
	-- record header (5), handshake header (4), version (2), random (32)
	local off = 5 + 4 + 2 + 32
	off = off + 1 + u8(off)             -- session id
	off = off + 2 + u16(off)            -- cipher suites
	off = off + 1 + u8(off)             -- compression methods
	local stop = off + 2 + u16(off)
	off = off + 2
	while off + 4 <= stop do
		local kind, len = u16(off), u16(off + 2)
		if kind == SERVER_NAME then
			-- list length (2), name type (1), name length (2), name
			return str(off + 4 + 5, u16(off + 4 + 3))
		end
		off = off + 4 + len
	end
end

local function filter_sni(packet, argument)
	local base = byteorder.ntoh16(argument:getuint16(0))
	if base >= #packet then
		return action.PASS
	end
	local u8, u16, str = reader(packet, base)
	if u8(0) ~= HANDSHAKE or u8(5) ~= CLIENT_HELLO then
		return action.PASS
	end
	local sni = server_name(u8, u16, str)
	if sni and blocked[sni] then
		return action.DROP
	end
	return action.PASS
end

xdp.attach(filter_sni)
