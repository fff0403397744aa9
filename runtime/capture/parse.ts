// Synchronous, incremental parser for classic pcap and pcapng. It is fed a
// buffer that starts at the current parse position, emits every complete
// record in it, and says how many bytes it consumed and how many it needs
// at the new position to make progress. The streaming reader (capture.ts)
// and the whole-file reader share it, so both accept exactly the same files.
//
// Decisions and bounds:
// - a classic pcap record's caplen may exceed the header snaplen (the bytes
//   are there; libpcap would truncate them) but not MAX_RECORD_BYTES;
// - a pcapng block may not exceed MAX_RECORD_BYTES + 64 KiB;
// - memory held by the parser is one record/block, never more;
// - classic pcap: versions 2.0-2.4 (as libpcap; 1.4 and others are errors),
//   both byte orders, micro/nanosecond magics and Kuznetzov's modified pcap;
//   a timestamp fraction >= 1 s is carried into the seconds;
// - pcapng: every section (SHB) resets the interfaces and may change byte
//   order; EPB, SPB and obsolete PB carry packets, other blocks are skipped;
//   IDB options if_tsresol (10^-n or 2^-n) and if_tsoffset are applied;
//   an SPB belongs to interface 0, has no time (0, 0), and captures
//   min(origLen, snaplen of interface 0 (0 = none), block body) bytes;
// - times are exact while the seconds fit a double exactly (2^53).

import { LINKTYPE } from './link.js';

/** Largest captured length (and, plus 64 KiB, pcapng block) accepted: 256 MiB. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
const MAX_BLOCK_BYTES = MAX_RECORD_BYTES + 65536;

export interface CaptureRecord {
  /** LINKTYPE_* of this packet's interface */
  linkType: number;
  /** capture time: seconds since the Unix epoch (0 with tsNsec 0 when unknown, e.g. pcapng SPB) */
  tsSec: number;
  /** nanoseconds within the second, 0..999_999_999 */
  tsNsec: number;
  /** original length on the wire */
  origLen: number;
  /** captured bytes; a view that is never overwritten, so it stays valid after iteration moves on */
  data: Uint8Array;
  /** byte offset of the record's header (pcap) or block (pcapng) in the file */
  offset: number;
  /** pcapng epb_flags when the block has them (bits 0-1: direction, 1 inbound, 2 outbound) */
  epbFlags?: number;
}

export interface CaptureInfo {
  format: 'pcap' | 'pcapng';
  /** byte order of the file (pcapng: of the first section) */
  byteOrder: 'le' | 'be';
  /** classic pcap only: timestamp resolution of the magic number */
  tsResolution?: 'us' | 'ns';
  /** link type of the file (pcap) or of the first interface (pcapng; ETHERNET if the file defines none) */
  linkType: number;
  /** pcap header snaplen, or snaplen of the first pcapng interface (0 = unlimited) */
  snaplen: number;
  /** distinct link types of the interfaces met so far, in order of appearance */
  linkTypes: number[];
  /** format version, e.g. "2.4" (pcap) or "1.0" (pcapng) */
  version: string;
}

/** A malformed or unreadable capture. The message names the file and the byte offset. */
export class CaptureError extends Error {
  readonly file: string;
  readonly offset: number;
  /** the message without the "FILE: offset N: " prefix */
  readonly reason: string;
  constructor(file: string, offset: number, reason: string) {
    super(`${file}: offset ${offset}: ${reason}`);
    this.name = 'CaptureError';
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * Receives parsed records. `data` is `buf[start, start + caplen)`; the
 * parser never keeps or rewrites `buf`, so views of it stay valid.
 */
export interface RecordSink {
  record(linkType: number, tsSec: number, tsNsec: number, origLen: number, buf: Uint8Array, start: number, caplen: number, offset: number,
    epbFlags?: number): void;
}

/** Collects CaptureRecord objects. */
export class ArraySink implements RecordSink {
  readonly records: CaptureRecord[] = [];
  record(linkType: number, tsSec: number, tsNsec: number, origLen: number, buf: Uint8Array, start: number, caplen: number, offset: number,
    epbFlags?: number): void {
    const r: CaptureRecord = { linkType, tsSec, tsNsec, origLen, data: buf.subarray(start, start + caplen), offset };
    if (epbFlags !== undefined) r.epbFlags = epbFlags;
    this.records.push(r);
  }
}

/**
 * Collects records as columns, without an object per packet: record i's
 * bytes are at `dataOffset[i]` (relative to `origin` in the parsed buffer's
 * ArrayBuffer: with origin 0, the absolute address there, e.g. in a Wasm
 * module's memory) for `capLen[i]` bytes. Reusable: reset() between chunks;
 * the columns grow as needed and are never shrunk.
 */
export class RecordColumns implements RecordSink {
  count = 0;
  /** subtracted from every data address: the byteOffset of the buffer addresses are relative to */
  origin: number;
  linkType: Int32Array;
  tsSec: Float64Array;
  tsNsec: Uint32Array;
  origLen: Uint32Array;
  dataOffset: Uint32Array;
  capLen: Uint32Array;
  /** file offset of each record's header (pcap) or block (pcapng) */
  offset: Float64Array;

  constructor(capacity = 1024, origin = 0) {
    const n = Math.max(16, capacity);
    this.origin = origin;
    this.linkType = new Int32Array(n);
    this.tsSec = new Float64Array(n);
    this.tsNsec = new Uint32Array(n);
    this.origLen = new Uint32Array(n);
    this.dataOffset = new Uint32Array(n);
    this.capLen = new Uint32Array(n);
    this.offset = new Float64Array(n);
  }

  reset(): void {
    this.count = 0;
  }

  private grow(): void {
    const n = this.linkType.length * 2;
    const g = <T extends Int32Array | Float64Array | Uint32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.linkType = g(this.linkType);
    this.tsSec = g(this.tsSec);
    this.tsNsec = g(this.tsNsec);
    this.origLen = g(this.origLen);
    this.dataOffset = g(this.dataOffset);
    this.capLen = g(this.capLen);
    this.offset = g(this.offset);
  }

  record(linkType: number, tsSec: number, tsNsec: number, origLen: number, buf: Uint8Array, start: number, caplen: number, offset: number): void {
    const i = this.count;
    if (i === this.linkType.length) this.grow();
    this.linkType[i] = linkType;
    this.tsSec[i] = tsSec;
    this.tsNsec[i] = tsNsec;
    this.origLen[i] = origLen;
    this.dataOffset[i] = buf.byteOffset + start - this.origin;
    this.capLen[i] = caplen;
    this.offset[i] = offset;
    this.count = i + 1;
  }
}

interface Iface {
  linkType: number;
  snaplen: number;
  /** units per second when < 2^31 (fast path), else 0 */
  div: number;
  /** nanoseconds per unit on the fast path when the unit divides 1 s in ns, else 0 */
  nsPerUnit: number;
  /** units per second as a BigInt, for the general path */
  divBig: bigint;
  /** if_tsoffset, seconds */
  tsOffset: number;
}

const enum State { Magic, PcapHeader, Pcap, Pcapng, Failed }

const SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_EPB = 6;

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

// Scratch results of divTs, to keep the per-packet path allocation-free.
let tsSecOut = 0;
let tsRemOut = 0;

/** (hi*2^32 + lo) / div for div < 2^31, by long division on 16-bit limbs (every step exact in doubles). */
function divTs(hi: number, lo: number, div: number): void {
  let x = hi >>> 16;
  let q3 = Math.floor(x / div);
  let r = x - q3 * div;
  x = r * 65536 + (hi & 0xffff);
  let q2 = Math.floor(x / div);
  r = x - q2 * div;
  if (r < 0) { q2--; r += div; }
  x = r * 65536 + (lo >>> 16);
  let q1 = Math.floor(x / div);
  r = x - q1 * div;
  if (r < 0) { q1--; r += div; }
  x = r * 65536 + (lo & 0xffff);
  let q0 = Math.floor(x / div);
  r = x - q0 * div;
  if (r < 0) { q0--; r += div; }
  if (q3 < 0) q3 = 0;
  tsSecOut = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0;
  tsRemOut = r;
}

function makeIface(linkType: number, snaplen: number, tsresol: number, tsOffset: number): Iface {
  // if_tsresol: MSB clear = 10^-n s, MSB set = 2^-n s. Default 10^-6.
  const pow2 = (tsresol & 0x80) !== 0;
  const n = tsresol & 0x7f;
  const divBig = pow2 ? 1n << BigInt(n) : 10n ** BigInt(n);
  let div = 0;
  let nsPerUnit = 0;
  if (divBig < 0x80000000n) {
    div = Number(divBig);
    if (1_000_000_000 % div === 0) nsPerUnit = 1_000_000_000 / div;
  }
  return { linkType, snaplen, div, nsPerUnit, divBig, tsOffset };
}

/** The epb_flags option (code 2) among an EPB's options in [q, end), if there. */
function epbFlags(dv: DataView, q: number, end: number, le: boolean): number | undefined {
  while (end - q >= 4) {
    const code = dv.getUint16(q, le);
    const olen = dv.getUint16(q + 2, le);
    if (code === 0 || olen > end - q - 4) return undefined;
    if (code === 2 && olen === 4) return dv.getUint32(q + 4, le);
    q += 4 + ((olen + 3) & ~3);
  }
  return undefined;
}

export class CaptureParser {
  readonly name: string;
  /** set once the format header (pcap) or first interface (pcapng) has been read */
  info: CaptureInfo | undefined;
  /** the first problem met; the parser stops there */
  error: CaptureError | null = null;
  /** bytes needed at the current position before parse() can make progress */
  need = 4;
  /** records emitted so far */
  count = 0;

  private state = State.Magic;
  private le = true;
  // classic pcap
  private recHdr = 16;
  private nsPerFrac = 1000;
  private linkType = 0;
  private swapLens = false;
  // pcapng
  private ifaces: Iface[] = [];
  private pendingInfo: CaptureInfo | undefined;
  private sawSection = false;

  constructor(name: string) {
    this.name = name;
  }

  private fail(offset: number, reason: string): void {
    if (!this.error) this.error = new CaptureError(this.name, offset, reason);
    this.state = State.Failed;
  }

  /**
   * Parses `buf`, whose first byte is at file offset `base` and is the
   * current parse position, passing complete records to `out`. Returns the
   * number of bytes consumed. Afterwards either `error` is set, or the
   * unconsumed rest is shorter than `need`.
   */
  parse(buf: Uint8Array, base: number, out: RecordSink): number {
    let p = 0;
    const end = buf.length;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (this.state === State.Magic) {
      if (end < 4) { this.need = 4; return 0; }
      if (!this.readMagic(dv, base)) return 0;
    }
    if (this.state === State.PcapHeader) {
      if (end < 24) { this.need = 24; return 0; }
      if (!this.readPcapHeader(dv, base)) return 0;
      p = 24;
    }
    if (this.state === State.Pcap) p = this.parsePcap(buf, dv, p, base, out);
    else if (this.state === State.Pcapng) p = this.parsePcapng(buf, dv, p, base, out);
    return p;
  }

  /** Called at end of input with the number of bytes left unconsumed. */
  finish(leftover: number, base: number): void {
    if (this.state === State.Failed) return;
    if (this.state === State.Magic || this.state === State.PcapHeader) {
      this.fail(base, base + leftover === 0 ? 'empty file: no capture header'
        : `file too short for a capture header (${leftover} bytes)`);
      return;
    }
    if (this.state === State.Pcapng && !this.info && this.pendingInfo) this.info = this.pendingInfo;
    if (leftover > 0) {
      const what = this.state === State.Pcap ? 'record' : 'block';
      this.fail(base, `truncated ${what}: ${leftover} bytes present, ${this.need} needed`);
    }
  }

  private readMagic(dv: DataView, base: number): boolean {
    const m = dv.getUint32(0, false);
    switch (m) {
      case 0xa1b2c3d4: case 0xd4c3b2a1: this.nsPerFrac = 1000; break;
      case 0xa1b23c4d: case 0x4d3cb2a1: this.nsPerFrac = 1; break;
      // Kuznetzov's modified pcap: 8 more bytes per record header, microseconds.
      case 0xa1b2cd34: case 0x34cdb2a1: this.nsPerFrac = 1000; this.recHdr = 24; break;
      case SHB:
        this.state = State.Pcapng;
        this.need = 12;
        return true;
      default:
        this.fail(base, `not a pcap or pcapng file (magic ${hex(m)})`);
        return false;
    }
    this.le = (m & 0xff) === 0xa1;
    this.state = State.PcapHeader;
    this.need = 24;
    return true;
  }

  private readPcapHeader(dv: DataView, base: number): boolean {
    const le = this.le;
    const major = dv.getUint16(4, le);
    const minor = dv.getUint16(6, le);
    // libpcap reads 2.0–2.4 and rejects anything else (e.g. the corpus's 1.4).
    if (major !== 2 || minor > 4) {
      this.fail(base + 4, `unsupported pcap version ${major}.${minor}`);
      return false;
    }
    this.swapLens = minor < 3;
    const snaplen = dv.getUint32(16, le);
    // The upper bits of the link-type word carry FCS information (LT_LINKTYPE in libpcap).
    this.linkType = dv.getUint32(20, le) & 0x03ffffff;
    this.info = {
      format: 'pcap',
      byteOrder: le ? 'le' : 'be',
      tsResolution: this.nsPerFrac === 1 ? 'ns' : 'us',
      linkType: this.linkType,
      snaplen,
      linkTypes: [this.linkType],
      version: `${major}.${minor}`,
    };
    this.state = State.Pcap;
    this.need = this.recHdr;
    return true;
  }

  private parsePcap(buf: Uint8Array, dv: DataView, p: number, base: number, out: RecordSink): number {
    const le = this.le;
    const hdr = this.recHdr;
    const nsPerFrac = this.nsPerFrac;
    const linkType = this.linkType;
    const end = buf.length;
    let n = 0;
    for (;;) {
      if (end - p < hdr) { this.need = hdr; break; }
      let caplen = dv.getUint32(p + 8, le);
      let origLen = dv.getUint32(p + 12, le);
      if (this.swapLens && caplen > origLen) { const t = caplen; caplen = origLen; origLen = t; }
      if (caplen > MAX_RECORD_BYTES) {
        this.fail(base + p, `record captured length ${caplen} exceeds the ${MAX_RECORD_BYTES}-byte limit`);
        break;
      }
      if (end - p < hdr + caplen) { this.need = hdr + caplen; break; }
      let tsSec = dv.getUint32(p, le);
      let tsNsec = dv.getUint32(p + 4, le) * nsPerFrac;
      if (tsNsec >= 1_000_000_000) {
        // Out-of-range fraction (malformed writer): carry into seconds as an epoch reader would.
        const carry = Math.floor(tsNsec / 1_000_000_000);
        tsSec += carry;
        tsNsec -= carry * 1_000_000_000;
      }
      const start = p + hdr;
      out.record(linkType, tsSec, tsNsec, origLen, buf, start, caplen, base + p);
      n++;
      p = start + caplen;
    }
    this.count += n;
    return p;
  }

  private parsePcapng(buf: Uint8Array, dv: DataView, p: number, base: number, out: RecordSink): number {
    const end = buf.length;
    for (;;) {
      if (end - p < 12) { this.need = 12; break; }
      const type = dv.getUint32(p, this.le);
      if (type === SHB) {
        // The section's byte order comes from its byte-order magic, before its length can be read.
        const bom = dv.getUint32(p + 8, false);
        if (bom === 0x1a2b3c4d) this.le = false;
        else if (bom === 0x4d3c2b1a) this.le = true;
        else { this.fail(base + p + 8, `bad pcapng byte-order magic ${hex(bom)}`); break; }
      } else if (!this.sawSection) {
        this.fail(base + p, 'pcapng file does not start with a Section Header Block');
        break;
      }
      const le = this.le;
      const len = dv.getUint32(p + 4, le);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_BYTES) {
        const why = len < 12 ? 'less than 12' : len % 4 !== 0 ? 'not a multiple of 4' : `over the ${MAX_BLOCK_BYTES}-byte limit`;
        this.fail(base + p, `bad pcapng block length ${len} (${why}) in block type ${hex(type)}`);
        break;
      }
      if (end - p < len) { this.need = len; break; }
      const trailer = dv.getUint32(p + len - 4, le);
      if (trailer !== len) {
        this.fail(base + p + len - 4, `pcapng block trailing length ${trailer} does not match leading length ${len}`);
        break;
      }
      if (!this.block(buf, dv, p, len, type, base, out)) break;
      p += len;
    }
    return p;
  }

  /** Handles one complete, length-checked block. Returns false after an error. */
  private block(buf: Uint8Array, dv: DataView, p: number, len: number, type: number, base: number, out: RecordSink): boolean {
    const le = this.le;
    switch (type) {
      case SHB: {
        if (len < 28) { this.fail(base + p, `Section Header Block too short (${len} bytes)`); return false; }
        const major = dv.getUint16(p + 12, le);
        const minor = dv.getUint16(p + 14, le);
        if (major !== 1) { this.fail(base + p + 12, `unsupported pcapng version ${major}.${minor}`); return false; }
        this.sawSection = true;
        this.ifaces = [];
        if (!this.pendingInfo) {
          this.pendingInfo = {
            format: 'pcapng', byteOrder: le ? 'le' : 'be', linkType: LINKTYPE.ETHERNET, snaplen: 0,
            linkTypes: [], version: `${major}.${minor}`,
          };
        }
        return true;
      }
      case BT_IDB: {
        if (len < 20) { this.fail(base + p, `Interface Description Block too short (${len} bytes)`); return false; }
        const linkType = dv.getUint16(p + 8, le);
        const snaplen = dv.getUint32(p + 12, le);
        let tsresol = 6;
        let tsOffset = 0;
        const optEnd = p + len - 4;
        let q = p + 16;
        while (optEnd - q >= 4) {
          const code = dv.getUint16(q, le);
          const olen = dv.getUint16(q + 2, le);
          if (code === 0) break;
          if (olen > optEnd - q - 4) {
            this.fail(base + q, `interface option ${code} (length ${olen}) runs past the end of its block`);
            return false;
          }
          if (code === 9 && olen >= 1) tsresol = buf[q + 4]!;
          else if (code === 14 && olen === 8) tsOffset = Number(dv.getBigInt64(q + 4, le));
          q += 4 + ((olen + 3) & ~3);
        }
        const info = this.pendingInfo!;
        if (this.ifaces.length === 0 && info.linkTypes.length === 0) {
          info.linkType = linkType;
          info.snaplen = snaplen;
        }
        if (!info.linkTypes.includes(linkType)) info.linkTypes.push(linkType);
        this.info = info;
        this.ifaces.push(makeIface(linkType, snaplen, tsresol, tsOffset));
        return true;
      }
      case BT_EPB:
      case BT_PB: {
        if (len < 32) { this.fail(base + p, `packet block too short (${len} bytes)`); return false; }
        const id = type === BT_EPB ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
        const iface = this.ifaces[id];
        if (!iface) {
          this.fail(base + p, `packet block references undefined interface ${id} (${this.ifaces.length} defined in this section)`);
          return false;
        }
        const caplen = dv.getUint32(p + 20, le);
        if (caplen > len - 32) {
          this.fail(base + p, `packet block captured length ${caplen} exceeds its block (${len} bytes)`);
          return false;
        }
        const hi = dv.getUint32(p + 12, le);
        const lo = dv.getUint32(p + 16, le);
        let tsSec: number;
        let tsNsec: number;
        if (iface.nsPerUnit !== 0) {
          divTs(hi, lo, iface.div);
          tsSec = tsSecOut;
          tsNsec = tsRemOut * iface.nsPerUnit;
        } else {
          const v = (BigInt(hi) << 32n) | BigInt(lo);
          const rem = v % iface.divBig;
          tsSec = Number(v / iface.divBig);
          tsNsec = Number((rem * 1_000_000_000n) / iface.divBig);
        }
        tsSec += iface.tsOffset;
        const flags = type === BT_EPB && len > 32 + ((caplen + 3) & ~3) ? epbFlags(dv, p + 28 + ((caplen + 3) & ~3), p + len - 4, le) : undefined;
        out.record(iface.linkType, tsSec, tsNsec, dv.getUint32(p + 24, le), buf, p + 28, caplen, base + p, flags);
        this.count++;
        return true;
      }
      case BT_SPB: {
        if (len < 16) { this.fail(base + p, `Simple Packet Block too short (${len} bytes)`); return false; }
        const iface = this.ifaces[0];
        if (!iface) { this.fail(base + p, 'Simple Packet Block before any Interface Description Block'); return false; }
        const origLen = dv.getUint32(p + 8, le);
        let caplen = Math.min(origLen, len - 16);
        if (iface.snaplen !== 0 && iface.snaplen < caplen) caplen = iface.snaplen;
        out.record(iface.linkType, 0, 0, origLen, buf, p + 12, caplen, base + p);
        this.count++;
        return true;
      }
      default:
        return true; // NRB, ISB, DSB, custom and unknown blocks carry no packets
    }
  }
}
