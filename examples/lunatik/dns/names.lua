--
-- DNS names for examples/lunatik/dns-block.lua: decode a question's name
-- from a Lunatik data object, and match it against a set of domains.
--

local names = {}

function names.set(list)
	local s = {}
	for _, d in ipairs(list) do s[d] = true end
	return s
end

-- labels from `off` up to the root label; nil for a compressed or
-- oversized name (a question's name is never compressed)
function names.decode(pkt, off)
	local labels = {}
	for _ = 1, 127 do
		local len = pkt:getuint8(off)
		if len == 0 then
			return table.concat(labels, ".")
		end
		if len > 63 then
			return nil
		end
		labels[#labels + 1] = pkt:getstring(off + 1, len)
		off = off + 1 + len
	end
	return nil
end

-- the name itself or any parent domain in the set
function names.matches(set, name)
	name = name:lower()
	while name do
		if set[name] then
			return true
		end
		name = name:match("^[^.]*%.(.+)$")
	end
	return false
end

return names
