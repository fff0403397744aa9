// Capture writing. Two formats:
// - classic pcap, little-endian, version 2.4, one link type. Timestamps use
//   the nanosecond magic (0xa1b23c4d) by default so they stay exact; pass
//   tsResolution 'us' for the microsecond magic (what a microsecond input
//   had, so nothing is lost then). A record of another link type is an error.
// - pcapng, little-endian, one section; an Interface Description Block
//   (if_tsresol 10^-9, or 10^-6 with tsResolution 'us') is added the first
//   time each link type appears, so records of mixed link types are kept.
//   Use it for pcapng input. A time past 2^64 ns (year 2554; some files hold
//   bogus ones) goes to a microsecond interface of the same link type.
// Records longer than the snaplen are cut to it (caplen = snaplen, origLen
// kept), as libpcap would when reading them back.
// Output is buffered; `write` never blocks, `ready()` waits for the
// destination to drain, `close()` flushes and waits for the data to land.

import * as fs from 'node:fs';
import { finished } from 'node:stream/promises';
import { CaptureError, MAX_RECORD_BYTES, type CaptureInfo, type CaptureRecord } from './parse.js';
import { fileURLToPath } from 'node:url';
import { linkTypeName } from './link.js';
import { OptionsError } from '../api/options.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** Where a capture is written: a path ('-' is standard output), a file: URL, or a writable stream. */
export type CaptureDestination = string | URL | NodeJS.WritableStream;

/** Options of createCaptureWriter and writeCapture. */
export interface CaptureWriterOptions {
  /**
   * link type of the file (pcap) or of the first interface (pcapng);
   * default: createCaptureWriter 1 (ETHERNET), writeCapture the first record's
   */
  linkType?: number;
  /** snaplen written in the header (pcap) / interface blocks (pcapng); default 262144 */
  snaplen?: number;
  /** default 'pcap' */
  format?: CaptureFormat;
  /** 'ns' (default, exact) or 'us' (pcap: microsecond magic; pcapng: if_tsresol 6; sub-microsecond digits dropped) */
  tsResolution?: 'us' | 'ns';
  /** name used in error messages (defaults to the path, "<stdout>" or "<stream>") */
  name?: string;
}

/** The fields of a CaptureRecord the writer uses; pcapng also keeps epb_flags and a comment (classic pcap cannot). */
export type WritableRecord = Pick<CaptureRecord, 'linkType' | 'tsSec' | 'tsNsec' | 'origLen' | 'data' | 'epbFlags'> & {
  /** pcapng opt_comment (UTF-8) */
  comment?: string;
};

export interface CaptureWriter {
  readonly format: CaptureFormat;
  /** records written so far */
  readonly count: number;
  /** Appends a record (buffered). Throws CaptureError for a record the format cannot hold. */
  write(record: WritableRecord): void;
  /** Resolves when the destination can take more data (call it now and then on long runs). */
  ready(): Promise<void>;
  /** Flushes, ends the destination (not stdout) and waits until everything is written. */
  close(): Promise<void>;
}

export const DEFAULT_SNAPLEN = 262144;
const BUF_SIZE = 256 * 1024;

/** The output format that keeps everything of an input: its own format (pcapng may mix link types). */
export function writerFormatFor(info: CaptureInfo): CaptureFormat {
  return info.format === 'pcapng' || info.linkTypes.length > 1 ? 'pcapng' : 'pcap';
}

class Writer implements CaptureWriter {
  readonly format: CaptureFormat;
  count = 0;
  private buf: Uint8Array;
  private dv: DataView;
  private pos = 0;
  private written = 0; // bytes handed to the stream
  private failure: CaptureError | null = null;
  private closed = false;
  private readonly ns: boolean;
  private readonly ifaceOf = new Map<number, number>();

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly name: string,
    private readonly linkType: number,
    private readonly snaplen: number,
    format: CaptureFormat,
    tsResolution: 'us' | 'ns',
    private readonly endStream: boolean,
  ) {
    this.format = format;
    this.ns = tsResolution === 'ns';
    this.buf = new Uint8Array(BUF_SIZE);
    this.dv = new DataView(this.buf.buffer);
    stream.on('error', (e: Error) => {
      this.failure ??= new CaptureError(name, this.written, `cannot write: ${e.message}`);
    });
    if (format === 'pcap') this.pcapHeader();
    else {
      this.shb();
      this.idb(linkType, !this.ns);
    }
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.dv = new DataView(this.buf.buffer);
    }
  }

  private flush(): void {
    if (this.pos === 0) return;
    // The stream keeps the chunk, so hand it a buffer we will not reuse.
    const chunk = this.buf.subarray(0, this.pos);
    this.stream.write(chunk);
    this.written += this.pos;
    this.buf = new Uint8Array(BUF_SIZE);
    this.dv = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  private pcapHeader(): void {
    this.room(24);
    const d = this.dv, p = this.pos;
    d.setUint32(p, this.ns ? 0xa1b23c4d : 0xa1b2c3d4, true);
    d.setUint16(p + 4, 2, true);
    d.setUint16(p + 6, 4, true);
    d.setInt32(p + 8, 0, true);
    d.setUint32(p + 12, 0, true);
    d.setUint32(p + 16, this.snaplen, true);
    d.setUint32(p + 20, this.linkType, true);
    this.pos += 24;
  }

  private shb(): void {
    this.room(28);
    const d = this.dv, p = this.pos;
    d.setUint32(p, 0x0a0d0d0a, true);
    d.setUint32(p + 4, 28, true);
    d.setUint32(p + 8, 0x1a2b3c4d, true);
    d.setUint16(p + 12, 1, true);
    d.setUint16(p + 14, 0, true);
    d.setBigInt64(p + 16, -1n, true); // section length unknown
    d.setUint32(p + 24, 28, true);
    this.pos += 28;
  }

  private idb(linkType: number, us: boolean): number {
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
      throw new CaptureError(this.name, this.written + this.pos, `link type ${linkType} does not fit a pcapng interface`);
    }
    this.room(32);
    const d = this.dv, p = this.pos;
    d.setUint32(p, 1, true);
    d.setUint32(p + 4, 32, true);
    d.setUint16(p + 8, linkType, true);
    d.setUint16(p + 10, 0, true);
    d.setUint32(p + 12, this.snaplen, true);
    d.setUint16(p + 16, 9, true); // if_tsresol
    d.setUint16(p + 18, 1, true);
    d.setUint32(p + 20, us ? 6 : 9, true); // 10^-9 or 10^-6, then 3 bytes of padding
    d.setUint32(p + 24, 0, true); // opt_endofopt
    d.setUint32(p + 28, 32, true);
    this.pos += 32;
    const id = this.ifaceOf.size;
    this.ifaceOf.set(linkType * 2 + (us ? 1 : 0), id);
    return id;
  }

  write(r: WritableRecord): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new CaptureError(this.name, this.written + this.pos, 'write after close');
    const at = this.written + this.pos;
    const { tsSec, tsNsec } = r;
    if (!Number.isInteger(tsSec) || !Number.isInteger(tsNsec) || tsNsec < 0 || tsNsec >= 1e9) {
      throw new CaptureError(this.name, at, `invalid timestamp ${tsSec}.${tsNsec}`);
    }
    const caplen = Math.min(r.data.length, this.snaplen, MAX_RECORD_BYTES);
    const origLen = Math.max(r.origLen, caplen);
    if (this.format === 'pcap') {
      if (r.linkType !== this.linkType) {
        throw new CaptureError(this.name, at, `a classic pcap holds one link type (${this.linkType} ${linkTypeName(this.linkType)}); ` +
          `this record is ${r.linkType} ${linkTypeName(r.linkType)}: write pcapng instead`);
      }
      if (tsSec < 0 || tsSec > 0xffffffff) {
        throw new CaptureError(this.name, at, `timestamp ${tsSec} s does not fit a pcap record (0..2^32-1); write pcapng instead`);
      }
      this.room(16 + caplen);
      const d = this.dv, p = this.pos;
      d.setUint32(p, tsSec, true);
      d.setUint32(p + 4, this.ns ? tsNsec : Math.floor(tsNsec / 1000), true);
      d.setUint32(p + 8, caplen, true);
      d.setUint32(p + 12, origLen > 0xffffffff ? 0xffffffff : origLen, true);
      this.buf.set(caplen === r.data.length ? r.data : r.data.subarray(0, caplen), p + 16);
      this.pos += 16 + caplen;
    } else {
      // Nanosecond interfaces reach year 2554; a later (or bogus, near-2^64 us) time
      // goes to a microsecond interface of the same link type when that is exact.
      let us = !this.ns;
      if (!us && tsSec >= 18446744073) {
        if (tsNsec % 1000 !== 0) throw new CaptureError(this.name, at, `timestamp ${tsSec}.${tsNsec} s out of pcapng range`);
        us = true;
      }
      const units = us ? BigInt(tsSec) * 1_000_000n + BigInt(Math.floor(tsNsec / 1000)) : BigInt(tsSec) * 1_000_000_000n + BigInt(tsNsec);
      if (units < 0n || units >= 1n << 64n) throw new CaptureError(this.name, at, `timestamp ${tsSec}.${tsNsec} s out of pcapng range`);
      const key = r.linkType * 2 + (us ? 1 : 0);
      const id = this.ifaceOf.get(key) ?? this.idb(r.linkType, us);
      const padded = (caplen + 3) & ~3;
      const comment = r.comment !== undefined ? Buffer.from(r.comment, 'utf8').subarray(0, 0xffff) : undefined;
      const options = (comment ? 4 + ((comment.length + 3) & ~3) : 0) + (r.epbFlags !== undefined ? 8 : 0);
      const len = 32 + padded + (options > 0 ? options + 4 : 0);
      this.room(len);
      const d = this.dv, p = this.pos;
      d.setUint32(p, 6, true);
      d.setUint32(p + 4, len, true);
      d.setUint32(p + 8, id, true);
      d.setUint32(p + 12, Number(units >> 32n), true);
      d.setUint32(p + 16, Number(units & 0xffffffffn), true);
      d.setUint32(p + 20, caplen, true);
      d.setUint32(p + 24, origLen > 0xffffffff ? 0xffffffff : origLen, true);
      this.buf.set(caplen === r.data.length ? r.data : r.data.subarray(0, caplen), p + 28);
      this.buf.fill(0, p + 28 + caplen, p + 28 + padded);
      let q = p + 28 + padded;
      if (comment) {
        d.setUint16(q, 1, true); // opt_comment
        d.setUint16(q + 2, comment.length, true);
        this.buf.set(comment, q + 4);
        this.buf.fill(0, q + 4 + comment.length, q + 4 + ((comment.length + 3) & ~3));
        q += 4 + ((comment.length + 3) & ~3);
      }
      if (r.epbFlags !== undefined) {
        d.setUint16(q, 2, true); // epb_flags
        d.setUint16(q + 2, 4, true);
        d.setUint32(q + 4, r.epbFlags >>> 0, true);
        q += 8;
      }
      if (options > 0) d.setUint32(q, 0, true); // opt_endofopt
      d.setUint32(p + len - 4, len, true);
      this.pos += len;
    }
    this.count++;
  }

  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const s = this.stream as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (!s.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => { s.off('drain', done); s.off('error', fail); resolve(); };
      const fail = () => { s.off('drain', done); s.off('error', fail); reject(this.failure); };
      s.on('drain', done);
      s.on('error', fail);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.failure) throw this.failure;
    this.flush();
    const s = this.stream;
    try {
      if (this.endStream) {
        s.end();
        await finished(s as NodeJS.WritableStream & fs.WriteStream, { readable: false });
      } else {
        // stdout cannot be ended; wait until what we queued has been flushed.
        await new Promise<void>((resolve, reject) => {
          s.write(new Uint8Array(0), (e?: Error | null) => (e ? reject(e) : resolve()));
        });
      }
    } catch (e) {
      this.failure ??= new CaptureError(this.name, this.written, `cannot write: ${(e as Error).message}`);
    }
    if (this.failure) throw this.failure;
  }
}

/**
 * Creates a capture writer to a path, '-' (standard output), a file: URL or
 * a writable stream, with the same options as writeCapture (`linkType`,
 * `format`, `snaplen`, `tsResolution`, `name`). The header is written at once.
 */
export function createCaptureWriter(destination: CaptureDestination, opts: CaptureWriterOptions = {}): CaptureWriter {
  if (typeof opts !== 'object' || opts === null) throw new OptionsError('options', opts, 'an object');
  const dest = destinationOf(destination);
  const linkType = opts.linkType ?? 1;
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const format = opts.format ?? 'pcap';
  if (format !== 'pcap' && format !== 'pcapng') throw new OptionsError('format', format, "'pcap' or 'pcapng'");
  const toStdout = dest === '-' || dest === process.stdout;
  const name = opts.name ?? (typeof dest === 'string' ? (dest === '-' ? '<stdout>' : dest) : '<stream>');
  if (!Number.isInteger(snaplen) || snaplen <= 0 || snaplen > 0xffffffff) {
    throw new CaptureError(name, 0, `invalid snaplen ${snaplen} (1..4294967295)`);
  }
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > (format === 'pcap' ? 0x03ffffff : 0xffff)) {
    throw new CaptureError(name, 0, `invalid link type ${linkType} for ${format}`);
  }
  const stream = typeof dest !== 'string' ? dest : toStdout ? process.stdout : fs.createWriteStream(dest);
  return new Writer(stream, name, linkType, snaplen, format, opts.tsResolution ?? 'ns', !toStdout);
}

/** A path or stream from a destination; a URL must be file:. */
export function destinationOf(destination: CaptureDestination): string | NodeJS.WritableStream {
  if (destination instanceof URL) {
    if (destination.protocol !== 'file:') throw new OptionsError('destination', destination.href, 'a path, a file: URL or a writable stream');
    return fileURLToPath(destination);
  }
  if (destination === '' || (typeof destination !== 'string' && typeof (destination as NodeJS.WritableStream)?.write !== 'function')) {
    throw new OptionsError('destination', destination, 'a path, a file: URL or a writable stream');
  }
  return destination;
}
