// Hand-made frames and batches for the Lunatik engine's unit tests, and an
// independent Internet checksum (RFC 1071, big-endian words) to check
// skb:checksum() against.
import type { PacketBatch } from '../../runtime/engine/filter.js';

const ETH_IP = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];

/** Ethernet + IPv4 + UDP to `dport` with `payload` (checksums left as given: 0). */
export function udpFrame(dport = 53, payload: number[] = [0xde, 0xad, 0xbe, 0xef]): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payload.length);
  f.set(ETH_IP, 0);
  const tot = 28 + payload.length;
  f.set([0x45, 0, tot >> 8, tot & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  f.set([0x30, 0x39, dport >> 8, dport & 0xff, (8 + payload.length) >> 8, (8 + payload.length) & 0xff, 0, 0], 34);
  f.set(payload, 42);
  return f;
}

/** Ethernet + IPv6 + TCP (SYN) to `dport` with `payload`. */
export function tcp6Frame(dport = 443, payload: number[] = []): Uint8Array {
  const f = new Uint8Array(14 + 40 + 20 + payload.length);
  f.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd], 0);
  const plen = 20 + payload.length;
  f.set([0x60, 0, 0, 0, plen >> 8, plen & 0xff, 6, 64], 14);
  for (let i = 0; i < 16; i++) { f[22 + i] = 0x20 + i; f[38 + i] = 0x40 + i; }
  f.set([0xc0, 0x01, dport >> 8, dport & 0xff, 0, 0, 0, 7, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0], 54);
  f.set(payload, 74);
  return f;
}

/** `frame` with an 802.1Q tag (VLAN `id`) after its MAC addresses. */
export function tagged(frame: Uint8Array, id: number): Uint8Array {
  const f = new Uint8Array(frame.length + 4);
  f.set(frame.subarray(0, 12), 0);
  f.set([0x81, 0x00, id >> 8, id & 0xff], 12);
  f.set(frame.subarray(12), 16);
  return f;
}

/** A batch of Ethernet frames (or `linkType`), all at 1700000000.000000005, with optional directions. */
export function batchOf(frames: Uint8Array[], linkType = 1, directions?: number[]): PacketBatch {
  const total = frames.reduce((n, f) => n + f.length, 0);
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(frames.length);
  const lengths = new Uint32Array(frames.length);
  let pos = 0;
  frames.forEach((f, i) => { bytes.set(f, pos); offsets[i] = pos; lengths[i] = f.length; pos += f.length; });
  return {
    bytes, offsets, lengths, count: frames.length, linkTypes: new Uint32Array(frames.length).fill(linkType),
    timestampsSec: new Float64Array(frames.length).fill(1_700_000_000), timestampsNsec: new Uint32Array(frames.length).fill(5),
    ...(directions ? { directions: Uint8Array.from(directions) } : {}),
  };
}

/** The Internet checksum of `parts` concatenated: the complement of the ones' complement sum of big-endian 16-bit words. */
export function internetChecksum(...parts: Uint8Array[]): number {
  const b = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** True when the IPv4 header at `ip` and its UDP/TCP segment carry valid checksums (a sum over them folds to zero). */
export function ipv4ChecksumsValid(f: Uint8Array, ip = 14): { header: boolean; transport: boolean } {
  const ihl = (f[ip] & 15) * 4;
  const tot = (f[ip + 2] << 8) | f[ip + 3];
  const proto = f[ip + 9];
  const pseudo = Uint8Array.from([...f.subarray(ip + 12, ip + 20), 0, proto, (tot - ihl) >> 8, (tot - ihl) & 0xff]);
  return {
    header: internetChecksum(f.subarray(ip, ip + ihl)) === 0,
    transport: internetChecksum(pseudo, f.subarray(ip + ihl, ip + tot)) === 0,
  };
}

/** The same for IPv6 (no extension headers). */
export function ipv6ChecksumValid(f: Uint8Array, ip = 14): boolean {
  const plen = (f[ip + 4] << 8) | f[ip + 5];
  const pseudo = new Uint8Array(40);
  pseudo.set(f.subarray(ip + 8, ip + 40), 0);
  new DataView(pseudo.buffer).setUint32(32, plen);
  pseudo[39] = f[ip + 6];
  return internetChecksum(pseudo, f.subarray(ip + 40, ip + 40 + plen)) === 0;
}
