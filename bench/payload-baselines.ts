// Hand-written TypeScript baselines for the payload filters of examples/:
// the same decisions as the Lua scripts, with a JavaScript RegExp where the
// script uses a Lua pattern. The suite checks their accept counts against
// luapf's before it trusts any figure.
import type { PacketCheck } from './baselines.js';

const latin1 = (b: Uint8Array, o: number, n: number) => Buffer.from(b.buffer, b.byteOffset + o, n).toString('latin1');

/** Lua's [^-%G]: printable, not space, not '-'. */
const VERSION_CHARS = '[\\x21-\\x2c\\x2e-\\x7e]';
const SSH_VERSION = new RegExp(`SSH-${VERSION_CHARS}+-(${VERSION_CHARS}+) `);
const BANNER = new RegExp(`^SSH-${VERSION_CHARS}+-${VERSION_CHARS}+`);

/** Offset (from o) of the L4 header when the packet is IPv4/IPv6 carrying `proto` (not a later fragment), else -1. */
function l4(b: Uint8Array, o: number, n: number, proto: number): number {
  if (n < 1) return -1;
  const v = b[o] >> 4;
  if (v === 4) {
    if (n < 10 || b[o + 9] !== proto || n < 8 || (((b[o + 6] << 8) | b[o + 7]) & 0x1fff) !== 0) return -1;
    const ihl = (b[o] & 15) * 4;
    return ihl <= n ? ihl : -1;
  }
  if (v === 6) {
    if (n < 7 || b[o + 6] !== proto) return -1;
    return 40 <= n ? 40 : -1;
  }
  return -1;
}

const sshVersion: PacketCheck = (b, o, n) => {
  const m = SSH_VERSION.exec(latin1(b, o, n));
  return !(m && m[1] === 'OpenSSH_6.4');
};

const sshBanner: PacketCheck = (b, o, n) => {
  const seg = l4(b, o, n, 6);
  if (seg < 0) return false;
  const rest = n - seg;
  if (rest < 13) return false; // data_offset sits in byte 12
  const dataOffset = (b[o + seg + 12] >> 4) * 4;
  if (dataOffset > rest) return false;
  const payload = o + seg + dataOffset;
  const len = rest - dataOffset;
  if (len < 4 || b[payload] !== 0x53 || b[payload + 1] !== 0x53 || b[payload + 2] !== 0x48 || b[payload + 3] !== 0x2d) return false;
  return BANNER.test(latin1(b, payload, Math.min(len, 255)));
};

const BLOCKED = new Set(['example.com', 'tcpdump.org', 'google-analytics.com', 'googlesyndication.com', 'ynet.co.il', 'cybercity.dk', 'whatsapp.net']);

const dnsBlocklist: PacketCheck = (b, o, n) => {
  const seg = l4(b, o, n, 17);
  if (seg < 0) return true;
  const rest = n - seg;
  if (rest < 4 || ((b[o + seg + 2] << 8) | b[o + seg + 3]) !== 53) return true;
  if (rest < 8) return true;
  const msg = o + seg + 8;
  const mlen = rest - 8;
  if (mlen < 6) return true; // qdcount (bytes 4-5) missing
  if ((b[msg + 2] & 0x80) !== 0) return true;
  if (((b[msg + 4] << 8) | b[msg + 5]) === 0) return true;
  const labels: string[] = [];
  let pos = 12;
  let name: string | undefined;
  while (pos - 12 < 255) {
    if (pos >= mlen) break;
    const len = b[msg + pos];
    if (len === 0) { name = labels.join('.'); break; }
    if (len >= 0x40) break;
    if (pos + 1 + len > mlen) break;
    labels.push(latin1(b, msg + pos + 1, len).replace(/[A-Z]/g, (c) => c.toLowerCase()));
    pos += 1 + len;
  }
  if (name === undefined) return true;
  for (let d: string | undefined = name; d !== undefined;) {
    if (BLOCKED.has(d)) return false;
    const dot = d.indexOf('.');
    d = dot >= 0 && dot + 1 < d.length ? d.slice(dot + 1) : undefined;
  }
  return true;
};

/** Example name → [path relative to the repository, baseline]. */
export const PAYLOAD_BASELINES: Record<string, [string, PacketCheck]> = {
  'ssh-version': ['examples/ssh-version.lua', sshVersion],
  'ssh-banner': ['examples/ssh-banner.lua', sshBanner],
  'dns-blocklist': ['examples/dns-blocklist.lua', dnsBlocklist],
};
