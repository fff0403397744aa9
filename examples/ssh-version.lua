-- ssh-version.lua: the classic NPF Lua example (DESIGN.md §1): reject
-- packets that carry the version banner of one SSH server release,
-- OpenSSH 6.4 (the release whose sshd had the AES-GCM post-authentication
-- memory corruption, CVE-2013-4548), and pass everything else.
--
-- tshark:  `!(frame matches "SSH-[!-,.-~]+-OpenSSH_6\\.4 ")`, roughly: tshark
--          regexes see the whole frame, this filter the network-layer packet.
-- libpcap cannot express it (no string search).
--
-- The pattern looks anywhere in the packet, as the original does: an SSH
-- banner "SSH-2.0-OpenSSH_6.4 Debian-..." or "SSH-2.0-OpenSSH_6.4 \r\n"
-- gives software_version 'OpenSSH_6.4'.  A banner without comments
-- ("SSH-2.0-OpenSSH_6.4\r\n") has no space after the version and is not
-- caught -- a known gap of the original pattern, kept here on purpose so the
-- script stays the one kernel users know.
local data = require'data'

local BLOCKED_VERSION = 'OpenSSH_6.4'

function filter(pkt)
  local str = tostring(pkt)
  -- %G is "not printable-except-space": [^-%G] is a printable, non-space,
  -- non-minus character, so each capture stops at '-' or white space.
  local software_version = str:match('SSH%-[^-%G]+%-([^-%G]+) ')
  if software_version == BLOCKED_VERSION then return false end
  return true
end
