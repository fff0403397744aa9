// Robustness of the capture reader: truncation at every byte, random bit
// flips, random chunking, crafted bad lengths. The reader must yield the good
// records, then end or raise CaptureError — never another error, never hang,
// never allocate beyond what the input holds.

import * as fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureError, MAX_RECORD_BYTES, indexCapture, openCapture, parseCapture } from '../runtime/capture/read.js';
import { chunkedStream, collect, corpusPath, plain } from './support/capture-helpers.js';

const read = (f: string) => new Uint8Array(fs.readFileSync(corpusPath(f)));

/** Offsets where a block / record ends in a valid file (so a prefix cut there is a valid file). */
function boundaries(bytes: Uint8Array): Set<number> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Set<number>();
  if (dv.getUint32(0) === 0x0a0d0d0a) {
    let le = true;
    for (let p = 0; p < bytes.length;) {
      if (dv.getUint32(p) === 0x0a0d0d0a) le = dv.getUint32(p + 8) === 0x4d3c2b1a;
      p += dv.getUint32(p + 4, le);
      out.add(p);
    }
  } else {
    const le = dv.getUint32(0) === 0xd4c3b2a1 || dv.getUint32(0) === 0x4d3cb2a1;
    for (let p = 24; ; p += 16 + dv.getUint32(p + 8, le)) {
      out.add(p);
      if (p >= bytes.length) break;
    }
  }
  return out;
}

function blockEnd(bytes: Uint8Array, offset: number, pcapng: boolean, le: boolean): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return offset + (pcapng ? dv.getUint32(offset + 4, le) : 16 + dv.getUint32(offset + 8, le));
}

describe('truncation at every byte position', () => {
  it.each(['sll2.pcap', 'tcp-handshake-nano.pcap', 'nanosecs_big_endian.pcap', 'be_test100.pcapng', 'ssh_packets.pcap', 'empty.pcapng'])('%s', (file) => {
    const bytes = read(file);
    const full = parseCapture(bytes);
    expect(full.error).toBeUndefined();
    const pcapng = full.info!.format === 'pcapng';
    const le = full.info!.byteOrder === 'le';
    const ends = full.records.map((r) => blockEnd(bytes, r.offset, pcapng, le));
    const valid = boundaries(bytes);
    for (let n = 0; n <= bytes.length; n++) {
      const r = parseCapture(bytes.subarray(0, n), 'cut');
      const expected = ends.filter((e) => e <= n).length;
      expect(r.records.length, `cut at ${n}`).toBe(expected);
      for (let i = 0; i < expected; i++) expect(r.records[i]!.offset).toBe(full.records[i]!.offset);
      if (valid.has(n)) expect(r.error, `cut at ${n}`).toBeUndefined();
      else {
        expect(r.error, `cut at ${n}`).toBeInstanceOf(CaptureError);
        expect(r.error!.offset).toBeLessThanOrEqual(n);
        expect(r.error!.message.startsWith(`cut: offset ${r.error!.offset}: `)).toBe(true);
      }
    }
  });
});

/** Whole-buffer and chunked-stream readings must agree exactly, records and error. */
async function agree(bytes: Uint8Array, sizes: number[]) {
  const whole = parseCapture(bytes, 'f');
  const streamed = await collect(openCapture(chunkedStream(bytes, sizes), 'f'));
  expect(streamed.records.map(plain)).toEqual(whole.records.map(plain));
  expect(streamed.error?.message).toBe(whole.error?.message);
  if (whole.error) expect(whole.error).toBeInstanceOf(CaptureError);
  const ix = indexCapture(bytes, 'f');
  expect(ix.count).toBe(whole.records.length);
  expect(ix.error?.message).toBe(whole.error?.message);
  return whole;
}

describe('random damage (fast-check)', () => {
  const seeds = ['sll2.pcap', 'be_test100.pcapng', 'ssh_packets.pcap', 'dns_udp.pcap', 'be_test010.pcapng', 'nanosecs_big_endian.pcap'].map(read);

  it('bit flips: same records and error whether streamed or whole, only CaptureError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }),
        async (which, flips, sizes) => {
          const bytes = seeds[which]!.slice();
          for (const f of flips) bytes[(f >> 3) % bytes.length]! ^= 1 << (f & 7);
          await agree(bytes, sizes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes after a valid header or section', async () => {
    const pcapHdr = read('sll2.pcap').subarray(0, 24);
    const ngHdr = read('be_test100.pcapng').subarray(0, 0x60 + 32); // SHB + IDB
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 64 }), async (ng, tail, size) => {
        const head = ng ? ngHdr : pcapHdr;
        const bytes = new Uint8Array(head.length + tail.length);
        bytes.set(head);
        bytes.set(tail, head.length);
        await agree(bytes, [size]);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- crafted pcapng ------------------------------------------------------

function block(type: number, body: number[], le = true, lenOverride?: number, trailer?: number): Uint8Array {
  const padded = [...body, ...Array((4 - (body.length % 4)) % 4).fill(0)];
  const len = 12 + padded.length;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, lenOverride ?? len, le);
  out.set(padded, 8);
  dv.setUint32(len - 4, trailer ?? lenOverride ?? len, le);
  return out;
}
const u16 = (v: number, le = true) => (le ? [v & 255, v >> 8] : [v >> 8, v & 255]);
const u32 = (v: number, le = true) => {
  const b = [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
  return le ? b : b.reverse();
};
const u64 = (v: bigint, le = true) => {
  const b = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 255n));
  return le ? b : b.reverse();
};
const shb = (le = true) => block(0x0a0d0d0a, [...u32(0x1a2b3c4d, le), ...u16(1, le), ...u16(0, le), ...u64(-1n & ((1n << 64n) - 1n), le)], le);
const idb = (linkType: number, opts: number[] = [], le = true, snaplen = 0) =>
  block(1, [...u16(linkType, le), 0, 0, ...u32(snaplen, le), ...opts, ...(opts.length ? [0, 0, 0, 0] : [])], le);
const epb = (iface: number, ts: bigint, data: number[], le = true, origLen = data.length) =>
  block(6, [...u32(iface, le), ...u32(Number(ts >> 32n), le), ...u32(Number(ts & 0xffffffffn), le), ...u32(data.length, le), ...u32(origLen, le), ...data], le);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const pkt = [0x45, 0, 0, 20];

describe('crafted bad lengths', () => {
  const good = cat(shb(), idb(1), epb(0, 1n, pkt), epb(0, 2n, pkt));

  it('pcapng block lengths: zero, small, unaligned, over the limit, past the end, mismatched trailer', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [block(6, [], true, 0), /bad pcapng block length 0 \(less than 12\)/],
      [block(6, [], true, 8), /bad pcapng block length 8 \(less than 12\)/],
      [block(6, [1, 2, 3, 4, 5, 6, 7, 8], true, 18), /bad pcapng block length 18 \(not a multiple of 4\)/],
      [block(6, [], true, 0xfffffff0), /bad pcapng block length 4294967280 \(over the/],
      [block(6, [], true, 1024), /truncated block: 48 bytes present, 1024 needed/],
      [block(6, [], true, undefined, 16), /trailing length 16 does not match leading length 12/],
      [epb(5, 0n, pkt), /references undefined interface 5 \(1 defined in this section\)/],
      [block(6, [...u32(0), 0, 0, 0, 0, 0, 0, 0, 0, ...u32(9999), ...u32(4)]), /captured length 9999 exceeds its block/],
    ];
    for (const [bad, msg] of cases) {
      const bytes = cat(good, bad, epb(0, 3n, pkt));
      const r = await agree(bytes, [5, 13]);
      expect(r.records.length).toBe(2); // the good ones come first
      expect(r.error?.message).toMatch(msg);
      expect(r.error!.message).toMatch(new RegExp(`^f: offset ${good.length}\\b|^f: offset ${good.length + (bad.length - 4)}\\b`));
    }
  });

  it('section and interface problems', () => {
    expect(parseCapture(cat(block(0x0a0d0d0a, [1, 2, 3, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).error?.message).toMatch(/bad pcapng byte-order magic 0x01020304/);
    expect(parseCapture(cat(block(0x0a0d0d0a, [...u32(0x1a2b3c4d), ...u16(2), ...u16(0), ...u64(0n)]))).error?.message).toMatch(/offset 12: unsupported pcapng version 2.0/);
    expect(parseCapture(cat(shb(), block(3, [...u32(4), ...pkt]))).error?.message).toMatch(/Simple Packet Block before any Interface/);
    expect(parseCapture(cat(shb(), idb(1, [9, 0, 40, 0, 1, 2, 3, 4]))).error?.message).toMatch(/interface option 9 \(length 40\) runs past/);
    // A new section forgets the previous section's interfaces.
    const two = parseCapture(cat(shb(), idb(1), epb(0, 0n, pkt), shb(false), epb(0, 0n, pkt, false)));
    expect(two.records.length).toBe(1);
    expect(two.error?.message).toMatch(/undefined interface 0 \(0 defined/);
  });

  it('pcap: caplen over the limit is refused without allocating; a huge claimed record is a truncation', async () => {
    const hdr = read('sll2.pcap').subarray(0, 24);
    const rec = (caplen: number, body: number) => {
      const r = new Uint8Array(16 + body);
      new DataView(r.buffer).setUint32(8, caplen, true);
      return r;
    };
    const over = parseCapture(cat(hdr, rec(MAX_RECORD_BYTES + 1, 0)), 'f');
    expect(over.error?.message).toBe(`f: offset 24: record captured length ${MAX_RECORD_BYTES + 1} exceeds the ${MAX_RECORD_BYTES}-byte limit`);
    expect(parseCapture(cat(hdr, rec(0xffffffff, 64))).error?.message).toMatch(/4294967295 exceeds/);

    // Claims 200 MiB, delivers 2 MiB: streaming keeps only what arrived.
    const big = cat(hdr, rec(200 << 20, 2 << 20));
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    const got = await collect(openCapture(chunkedStream(big, 65536), 'big'));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(got.error?.message).toBe(`big: offset 24: truncated record: ${16 + (2 << 20)} bytes present, ${16 + (200 << 20)} needed`);
    expect(grown).toBeLessThan(32 << 20);
  });
});

describe('pcapng timestamps: if_tsresol (10^-n and 2^-n) and if_tsoffset, exact', () => {
  const ref = (ts: bigint, resol: number, offset: bigint) => {
    const div = resol & 0x80 ? 1n << BigInt(resol & 0x7f) : 10n ** BigInt(resol);
    return [Number(ts / div + offset), Number(((ts % div) * 1_000_000_000n) / div)];
  };
  it('matches a BigInt reference for random 64-bit times, both byte orders', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0x80, max: 0x80 + 40 })),
        fc.bigInt({ min: -(1n << 31n), max: 1n << 31n }),
        fc.boolean(),
        (ts, resol, offset, le) => {
          const opts = [...u16(9, le), ...u16(1, le), resol, 0, 0, 0, ...u16(14, le), ...u16(8, le), ...u64(BigInt.asUintN(64, offset), le)];
          const r = parseCapture(cat(shb(le), idb(101, opts, le), epb(0, ts, pkt, le)));
          expect(r.error).toBeUndefined();
          const [sec, nsec] = ref(ts, resol, offset);
          const got = r.records[0]!;
          expect(got.tsNsec).toBe(nsec);
          // Seconds are exact up to 2^53 (285 million years); beyond, a double is all a number holds.
          if (Math.abs(sec!) <= Number.MAX_SAFE_INTEGER) expect(got.tsSec).toBe(sec);
          else expect(Math.abs(got.tsSec - sec!) / Math.abs(sec!)).toBeLessThan(1e-15);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('SPB: interface 0, no time, caplen = min(origLen, snaplen, body)', () => {
    const spb = (origLen: number, data: number[]) => block(3, [...u32(origLen), ...data]);
    const r = parseCapture(cat(shb(), idb(1, [], true, 6), spb(8, [1, 2, 3, 4, 5, 6, 7, 8]), spb(3, [1, 2, 3, 4]), spb(100, [1, 2, 3, 4])));
    expect(r.records.map((x) => [x.data.length, x.origLen, x.tsSec, x.tsNsec])).toEqual([[6, 8, 0, 0], [3, 3, 0, 0], [4, 100, 0, 0]]);
  });
});

describe('classic pcap variants', () => {
  const header = (magic: number, major = 2, minor = 4, linkType = 1) => {
    const h = new Uint8Array(24);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, magic, true);
    dv.setUint16(4, major, true);
    dv.setUint16(6, minor, true);
    dv.setUint32(16, 65535, true);
    dv.setUint32(20, linkType, true);
    return h;
  };
  const record = (sec: number, frac: number, caplen: number, len: number, extra = 0) => {
    const r = new Uint8Array(16 + extra + caplen).fill(0xab);
    const dv = new DataView(r.buffer);
    [sec, frac, caplen, len].forEach((v, i) => dv.setUint32(4 * i, v, true));
    return r;
  };

  it("Kuznetzov's modified pcap (24-byte record headers)", () => {
    const r = parseCapture(cat(header(0xa1b2cd34), record(7, 5, 4, 4, 8), record(8, 6, 2, 9, 8)));
    expect(r.error).toBeUndefined();
    expect(r.records.map((x) => [x.tsSec, x.tsNsec, x.data.length, x.origLen, x.offset])).toEqual([[7, 5000, 4, 4, 24], [8, 6000, 2, 9, 52]]);
  });

  it('version 2.2 with swapped lengths, fraction carry, FCS bits of the link type', () => {
    const r = parseCapture(cat(header(0xa1b2c3d4, 2, 2, 0x10000001), record(1, 2_500_000, 9, 4).subarray(0, 16 + 4)));
    expect(r.error).toBeUndefined();
    expect(r.info?.linkType).toBe(1);
    // caplen 9 > len 4 in a pre-2.3 file: the fields were written swapped
    expect(r.records.map((x) => [x.tsSec, x.tsNsec, x.data.length, x.origLen])).toEqual([[3, 500_000_000, 4, 9]]);
    expect(parseCapture(cat(header(0xa1b2c3d4, 2, 5)), 'v').error?.message).toBe('v: offset 4: unsupported pcap version 2.5');
    expect(parseCapture(header(0xa1b2c3d4).subarray(0, 10), 'h').error?.message).toBe('h: offset 0: file too short for a capture header (10 bytes)');
  });
});
