// Link layer: where the network-layer packet (`pkt`, DESIGN.md §2) starts
// inside a captured frame, per LINKTYPE_* value. The one place that walks
// link headers: the library, both runners and the benchmark ask here. The
// offset is resolved per link type once (networkOffsetFn) so the per-packet
// work is a bounds check, plus a short loop over VLAN tags for Ethernet.

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  /** legacy DLT_RAW value used by some writers (raw IP, no link header) */
  RAW_DLT12: 12,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const NAMES: Record<number, string> = {
  0: 'NULL', 1: 'ETHERNET', 3: 'AX25', 6: 'IEEE802_5', 7: 'ARCNET_BSD', 8: 'SLIP', 9: 'PPP',
  10: 'FDDI', 12: 'RAW(legacy DLT 12)', 14: 'RAW(legacy DLT 14)', 50: 'PPP_HDLC', 51: 'PPP_ETHER',
  100: 'ATM_RFC1483', 101: 'RAW', 104: 'C_HDLC', 105: 'IEEE802_11', 107: 'FRELAY', 108: 'LOOP',
  113: 'LINUX_SLL', 114: 'LTALK', 119: 'PRISM_HEADER', 122: 'IP_OVER_FC', 127: 'IEEE802_11_RADIOTAP',
  138: 'APPLE_IP_OVER_IEEE1394', 143: 'DOCSIS', 163: 'IEEE802_11_AVS', 187: 'BLUETOOTH_HCI_H4',
  189: 'USB_LINUX', 192: 'PPI', 195: 'IEEE802_15_4_WITHFCS', 201: 'BLUETOOTH_HCI_H4_WITH_PHDR',
  220: 'USB_LINUX_MMAPPED', 228: 'IPV4', 229: 'IPV6', 249: 'USBPCAP', 253: 'NETLINK',
  263: 'PFLOG', 276: 'LINUX_SLL2',
};

/** Human-readable name of a LINKTYPE_* value, e.g. 1 → "ETHERNET"; unknown values give "LINKTYPE_<n>". */
export function linkTypeName(linkType: number): string {
  return NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

/**
 * A link type the runtime cannot strip to the network layer. The message
 * gives the library's remedy (the `layer: 2` option); `detail` is the
 * message without it, for callers that have their own (`--layer 2`).
 */
export class LinkTypeError extends Error {
  readonly linkType: number;
  /** what is wrong, without the remedy */
  readonly detail: string;
  constructor(linkType: number) {
    const detail = `unsupported link type ${linkType} (${linkTypeName(linkType)}): luapf strips ETHERNET (1), NULL (0), ` +
      `LOOP (108), RAW (101, 12), IPV4 (228), IPV6 (229), LINUX_SLL (113) and LINUX_SLL2 (276)`;
    super(`${detail}; give the option layer: 2 to filter whole frames`);
    this.name = 'LinkTypeError';
    this.linkType = linkType;
    this.detail = detail;
  }
}

/** What `pkt` is: 3 the network-layer packet (the link header stripped), 2 the whole frame. */
export type Layer = 2 | 3;

/**
 * Where the network-layer packet starts in the frame of `n` bytes at `at` in
 * `bytes` (default: the whole array is the frame); `n` when the frame is too
 * short. A position rather than a subarray, so the zero-copy runner and the
 * benchmark's columnar sets call it on frames in place.
 */
export type OffsetFn = (bytes: Uint8Array, at?: number, n?: number) => number;

const ETH_VLAN_8021Q = 0x8100;
const ETH_VLAN_8021AD = 0x88a8;
const ETH_VLAN_9100 = 0x9100;

/** Ethernet: 14 bytes, then 4 more per VLAN tag (802.1Q, 802.1ad, 0x9100). */
const ethernetOffset: OffsetFn = (bytes, at = 0, n = bytes.length - at) => {
  if (n < 14) return n;
  let off = 14;
  // The ethertype sits in the two bytes before `off`; each tag pushes it 4 bytes on.
  for (;;) {
    const type = (bytes[at + off - 2]! << 8) | bytes[at + off - 1]!;
    if (type !== ETH_VLAN_8021Q && type !== ETH_VLAN_8021AD && type !== ETH_VLAN_9100) return off;
    if (off + 4 > n) return n;
    off += 4;
  }
};

const layer2: OffsetFn = () => 0;

function fixed(len: number): OffsetFn {
  if (len === 0) return layer2;
  return (bytes, at = 0, n = bytes.length - at) => (n < len ? n : len);
}

/** Link types whose header has a fixed length at layer 3 (Ethernet's varies: ethernetOffset). */
const FIXED_HEADER: Record<number, number> = {
  [LINKTYPE.NULL]: 4,
  [LINKTYPE.LOOP]: 4,
  [LINKTYPE.RAW]: 0,
  [LINKTYPE.RAW_DLT12]: 0,
  [LINKTYPE.IPV4]: 0,
  [LINKTYPE.IPV6]: 0,
  [LINKTYPE.LINUX_SLL]: 16,
  [LINKTYPE.LINUX_SLL2]: 20,
};

/** True if `networkOffset` can strip this link type at layer 3. */
export function isSupportedLinkType(linkType: number): boolean {
  return linkType === LINKTYPE.ETHERNET || FIXED_HEADER[linkType] !== undefined;
}

const cache3 = new Map<number, OffsetFn>();

/**
 * Resolves the offset function of a link type once (call it per capture
 * interface, not per packet). Layer 2 is the whole frame for any link type.
 * Throws LinkTypeError for a link type that layer 3 cannot strip.
 */
export function networkOffsetFn(linkType: number, layer: Layer = 3): OffsetFn {
  if (layer === 2) return layer2;
  let fn = cache3.get(linkType);
  if (fn) return fn;
  if (linkType === LINKTYPE.ETHERNET) fn = ethernetOffset;
  else {
    const len = FIXED_HEADER[linkType];
    if (len === undefined) throw new LinkTypeError(linkType);
    fn = fixed(len);
  }
  cache3.set(linkType, fn);
  return fn;
}

// Per-packet callers almost always repeat the previous link type.
let lastType = LINKTYPE.ETHERNET as number;
let lastFn: OffsetFn = ethernetOffset;

/**
 * Where the network-layer packet starts in the frame of `n` bytes at `at`
 * in `bytes`, a frame of `linkType`: the per-packet entry of the runners and
 * the benchmark, which hold frames in place. Throws LinkTypeError.
 */
export function networkOffsetAt(linkType: number, bytes: Uint8Array, at: number, n: number, layer: Layer = 3): number {
  if (layer === 2) return 0;
  if (linkType !== lastType) {
    lastFn = networkOffsetFn(linkType, 3);
    lastType = linkType;
  }
  return lastFn(bytes, at, n);
}

/** Byte offset where the packet handed to filter() starts: `pkt = frame.subarray(off)`. Throws LinkTypeError. */
export function networkOffset(linkType: number, frame: Uint8Array, layer: Layer = 3): number {
  return networkOffsetAt(linkType, frame, 0, frame.length, layer);
}

/**
 * The bytes a filter sees as `pkt` for a capture record: the frame without
 * its link-layer header at layer 3 (default), the whole frame at layer 2.
 * Throws LinkTypeError for a link type layer 3 cannot strip.
 */
export function networkPacket(record: { data: Uint8Array; linkType: number }, layer: Layer = 3): Uint8Array {
  return record.data.subarray(networkOffset(record.linkType, record.data, layer));
}
