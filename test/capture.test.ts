import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, indexCapture, indexCaptureFile, openCapture, parseCapture, readCaptureFile, type CaptureRecord } from '../runtime/capture/read.js';
import { createCaptureWriter, writerFormatFor } from '../runtime/capture/write.js';
import {
  INVALID_FILE, chunkedStream, collect, corpusPath, epochString, manifest, plain, tsharkFields,
} from './support/capture-helpers.js';
import { hasCapinfos, hasTshark } from './support/tools.js';

const rows = manifest();
const valid = rows.filter((r) => r.file !== INVALID_FILE);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luapf-capture-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('reader: every corpus file matches MANIFEST.tsv', () => {
  it('has the 59 manifest rows', () => {
    expect(rows.length).toBe(59);
  });

  it.each(valid.map((r) => [r.file, r] as const))('%s', (_name, row) => {
    const { info, records, bytes } = readCaptureFile(corpusPath(row.file));
    expect(bytes.length).toBe(row.bytes);
    expect(records.length).toBe(row.packets);
    const fmt = info.format === 'pcap' ? `pcap-${info.byteOrder}-${info.tsResolution}` : `pcapng-${info.byteOrder}`;
    expect(fmt).toBe(row.format);
    // Interfaces' link types, in order of appearance, are the manifest's list.
    expect(info.linkTypes).toEqual(row.linkTypes);
    expect(info.linkType).toBe(row.linkTypes[0]);
    for (const r of records) {
      expect(row.linkTypes).toContain(r.linkType);
      expect(r.tsNsec).toBeGreaterThanOrEqual(0);
      expect(r.tsNsec).toBeLessThan(1e9);
      // data is a view into the file at the right place
      expect(r.data.buffer).toBe(bytes.buffer);
      expect(r.data.byteOffset - bytes.byteOffset).toBeGreaterThan(r.offset);
    }
  });

  it.each(['many-protocols.pcap', 'pcapng-example.pcapng', 'be_test100.pcapng', 'nanosecs_big_endian.pcap', 'empty.pcap'])('columnar index of %s equals the records', (file) => {
    const { records, bytes } = readCaptureFile(corpusPath(file));
    const ix = indexCaptureFile(corpusPath(file));
    expect(ix.count).toBe(records.length);
    records.forEach((r, i) => {
      expect([ix.linkType[i], ix.tsSec[i], ix.tsNsec[i], ix.origLen[i], ix.offset[i], ix.capLen[i]])
        .toEqual([r.linkType, r.tsSec, r.tsNsec, r.origLen, r.offset, r.data.length]);
      expect(ix.dataOffset[i]).toBe(r.data.byteOffset - bytes.byteOffset);
    });
    expect(Buffer.from(ix.bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  it('columnar index reports errors with the good records', () => {
    const bytes = fs.readFileSync(corpusPath('v4.pcap'));
    const ix = indexCapture(bytes.subarray(0, bytes.length - 1), 'cut');
    expect(ix.count).toBe(42);
    expect(ix.error).toBeInstanceOf(CaptureError);
    expect(() => indexCaptureFile(corpusPath(INVALID_FILE))).toThrow(/offset 4: unsupported pcap version 1.4/);
  });

  it('knows snaplen-truncated records (caplen < origLen)', () => {
    const { info, records } = readCaptureFile(corpusPath('SllPacket.pcap'));
    expect(info.snaplen).toBe(128);
    expect([records[0]!.data.length, records[0]!.origLen]).toEqual([128, 1296]);
    const asan = readCaptureFile(corpusPath('ip_ts_opts_asan.pcap')).records[0]!;
    expect([asan.data.length, asan.origLen]).toEqual([50, 262144]);
  });

  it('reads the 65590-byte jumbogram frame', () => {
    const { records } = readCaptureFile(corpusPath('ipv6_jumbogram_1.pcap'));
    expect(records[0]!.data.length).toBe(65590);
  });
});

describe('reader: errors', () => {
  const invalid = corpusPath(INVALID_FILE);

  it('rejects pcap version 1.4 with file and offset', () => {
    expect(() => readCaptureFile(invalid)).toThrow(CaptureError);
    try {
      readCaptureFile(invalid);
    } catch (e) {
      const err = e as CaptureError;
      expect(err.file).toBe(invalid);
      expect(err.offset).toBe(4);
      expect(err.message).toBe(`${invalid}: offset 4: unsupported pcap version 1.4`);
    }
  });

  it('rejects it when streaming too, from header()', async () => {
    const reader = openCapture(invalid, 'bad.pcap');
    await expect(reader.header()).rejects.toThrow('bad.pcap: offset 4: unsupported pcap version 1.4');
    const got = await collect(openCapture(invalid));
    expect(got.records).toEqual([]);
    expect(got.error).toBeInstanceOf(CaptureError);
  });

  it('names a missing file', async () => {
    expect(() => readCaptureFile('/nonexistent/x.pcap')).toThrow(/x\.pcap: offset 0: cannot read: ENOENT/);
    const got = await collect(openCapture('/nonexistent/x.pcap'));
    expect(got.error?.message).toMatch(/x\.pcap: offset 0: cannot read: ENOENT/);
  });

  it('rejects a non-capture, an empty input and text streams', async () => {
    const r = parseCapture(new TextEncoder().encode('hello world, this is not a pcap'), 'x');
    expect(r.error?.message).toBe('x: offset 0: not a pcap or pcapng file (magic 0x68656c6c)');
    expect(parseCapture(new Uint8Array(0), 'e').error?.message).toBe('e: offset 0: empty file: no capture header');
    const text = await collect(openCapture(Readable.from(['abc']), 's'));
    expect(text.error?.message).toMatch(/^s: offset 0: stream delivered text/);
  });

  it('delivers every good record before a cut-off record', async () => {
    const bytes = fs.readFileSync(corpusPath('v4.pcap'));
    const full = parseCapture(bytes).records;
    const cut = bytes.subarray(0, full[10]!.offset + 20); // inside record 10's body
    const whole = parseCapture(cut, 'cut.pcap');
    expect(whole.records.length).toBe(10);
    expect(whole.error?.message).toBe(`cut.pcap: offset ${full[10]!.offset}: truncated record: 20 bytes present, ${16 + full[10]!.data.length} needed`);
    const streamed = await collect(openCapture(chunkedStream(cut, 100), 'cut.pcap'));
    expect(streamed.records.map(plain)).toEqual(whole.records.map(plain));
    expect(streamed.error?.message).toBe(whole.error?.message);
  });
});

describe('reader: streaming equals whole-file reading', () => {
  const files = ['be_test100.pcapng', 'many_interfaces-1.pcapng', 'nanosecs_big_endian.pcap', 'sll2.pcap', 'dns_tcp.pcap', 'ssh_packets.pcap', 'empty.pcapng'];
  for (const file of files) {
    it(`${file} in 1-byte and 7-byte chunks`, async () => {
      const bytes = fs.readFileSync(corpusPath(file));
      const expected = parseCapture(bytes).records.map(plain);
      for (const size of [1, 7]) {
        const reader = openCapture(chunkedStream(bytes, size), file);
        const info = await reader.header();
        expect(info.format).toBe(file.endsWith('pcapng') || file === 'ssh_packets.pcap' ? 'pcapng' : 'pcap');
        const got = await collect(reader);
        expect(got.error).toBeUndefined();
        expect(got.records.map(plain)).toEqual(expected);
      }
    });
  }

  it('reads a path in batches, and records stay valid after iteration moves on', async () => {
    const file = corpusPath('many-protocols.pcap');
    const expected = readCaptureFile(file).records;
    const kept: CaptureRecord[] = [];
    let batches = 0;
    for await (const batch of openCapture(file).batches()) {
      batches++;
      kept.push(...batch);
    }
    expect(batches).toBeGreaterThan(1); // 2.9 MB in 1 MiB chunks
    expect(kept.length).toBe(4709);
    for (let i = 0; i < kept.length; i += 97) expect(plain(kept[i]!)).toEqual(plain(expected[i]!));
    expect(plain(kept.at(-1)!)).toEqual(plain(expected.at(-1)!));
  });

  it('stops the source when the consumer breaks early', async () => {
    const stream = fs.createReadStream(corpusPath('many-protocols.pcap'));
    for await (const r of openCapture(stream)) { expect(r.linkType).toBe(1); break; }
    expect(stream.destroyed).toBe(true);
  });
});

describe.skipIf(!hasTshark)('reader: timestamps and lengths match tshark', () => {
  // big-endian ns pcap, little-endian ns pcap, SPBs without time, two link types with bogus (near 2^64 us) times
  const files = ['nanosecs_big_endian.pcap', 'tcp-handshake-nano.pcap', 'be_test100.pcapng', 'pcapng-example.pcapng'];
  it.concurrent.each(files)('%s', async (file) => {
    const { records } = readCaptureFile(corpusPath(file));
    const rows = await tsharkFields(corpusPath(file), ['frame.time_epoch', 'frame.cap_len', 'frame.len']);
    expect(rows.length).toBe(records.length);
    rows.forEach(([epoch, capLen, len], i) => {
      const r = records[i]!;
      // tshark leaves the time empty for Simple Packet Blocks; we give 0.
      expect(epoch === '' ? '0.000000000' : epoch).toBe(epochString(r));
      expect(Number(capLen)).toBe(r.data.length);
      expect(Number(len)).toBe(r.origLen);
    });
  });
});

async function writeAll(dest: string, records: CaptureRecord[], linkType: number, format: 'pcap' | 'pcapng', res?: 'us' | 'ns') {
  const w = createCaptureWriter(dest, { linkType, format, tsResolution: res });
  for (const r of records) w.write(r);
  await w.close();
  expect(w.count).toBe(records.length);
}

const same = (a: CaptureRecord[], b: CaptureRecord[]) =>
  expect(b.map(({ offset: _o, ...r }) => ({ ...r, data: Buffer.from(r.data).toString('hex') })))
    .toEqual(a.map(({ offset: _o, ...r }) => ({ ...r, data: Buffer.from(r.data).toString('hex') })));

describe('writer', () => {
  it.each(valid.map((r) => r.file))('round trip %s', async (file) => {
    const { info, records } = readCaptureFile(corpusPath(file));
    const format = writerFormatFor(info);
    const out = path.join(tmp, `${file}.${format}`);
    await writeAll(out, records, info.linkType, format);
    const back = readCaptureFile(out);
    expect(back.info.format).toBe(format);
    same(records, back.records);
  });

  it('keeps microsecond files exact with the microsecond magic', async () => {
    const { records } = readCaptureFile(corpusPath('v4.pcap'));
    const out = path.join(tmp, 'us.pcap');
    await writeAll(out, records, 1, 'pcap', 'us');
    const back = readCaptureFile(out);
    expect(back.info.tsResolution).toBe('us');
    same(records, back.records);
  });

  it('refuses a second link type in classic pcap, keeps both in pcapng', async () => {
    const { records } = readCaptureFile(corpusPath('pcapng-example.pcapng'));
    const w = createCaptureWriter(new PassThrough(), { linkType: 1 });
    expect(() => records.forEach((r) => w.write(r))).toThrow(/classic pcap holds one link type \(1 ETHERNET\); this record is 113 LINUX_SLL/);
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    const png = createCaptureWriter(sink, { format: 'pcapng' }); // linkType defaults to 1
    for (const r of records) png.write(r);
    await png.close();
    const back = parseCapture(Buffer.concat(chunks));
    expect(back.info?.linkTypes).toEqual([1, 113]);
    same(records, back.records);
  });

  it('cuts records to the snaplen and keeps origLen', async () => {
    const { records } = readCaptureFile(corpusPath('v4.pcap'));
    const out = path.join(tmp, 'snap.pcap');
    const w = createCaptureWriter(out, { linkType: 1, snaplen: 64 });
    for (const r of records) w.write(r);
    await w.close();
    const back = readCaptureFile(out).records;
    back.forEach((r, i) => {
      expect(r.data.length).toBe(Math.min(64, records[i]!.data.length));
      expect(r.origLen).toBe(records[i]!.origLen);
    });
  });

  it('writes microsecond pcapng when asked, and validates its input', async () => {
    const { records } = readCaptureFile(corpusPath('be_test010.pcapng'));
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const w = createCaptureWriter(sink, { linkType: 1, format: 'pcapng', tsResolution: 'us' });
    for (const r of records) w.write(r);
    await w.ready();
    await w.close();
    same(records, parseCapture(Buffer.concat(chunks)).records);
    expect(() => createCaptureWriter(new PassThrough(), { snaplen: 0 })).toThrow(/invalid snaplen 0/);
    expect(() => createCaptureWriter(new PassThrough(), { linkType: 70000, format: 'pcapng' })).toThrow(/invalid link type 70000 for pcapng/);
    const v = createCaptureWriter(new PassThrough());
    expect(() => v.write({ ...records[0]!, tsNsec: 1e9 })).toThrow(/invalid timestamp/);
    expect(() => v.write({ ...records[0]!, tsSec: 2 ** 32 })).toThrow(/does not fit a pcap record/);
    await v.close();
    expect(() => v.write(records[0]!)).toThrow(/write after close/);
  });

  it('reports an unwritable path as CaptureError', async () => {
    const w = createCaptureWriter('/nonexistent-dir/out.pcap');
    await expect(w.close()).rejects.toThrow(CaptureError);
  });

  describe.skipIf(!hasTshark)('tshark reads what we write', () => {
    it.concurrent.each(['tcp-handshake-nano.pcap', 'pcapng-example.pcapng'])('%s', async (file) => {
      const { info, records } = readCaptureFile(corpusPath(file));
      const format = writerFormatFor(info);
      const out = path.join(tmp, `ts-${file}.${format}`);
      await writeAll(out, records, info.linkType, format);
      const rows = await tsharkFields(out, ['frame.time_epoch', 'frame.cap_len']);
      expect(rows.length).toBe(records.length);
      rows.forEach(([epoch, cap], i) => {
        expect(epoch).toBe(epochString(records[i]!));
        expect(Number(cap)).toBe(records[i]!.data.length);
      });
    });
  });

  it.skipIf(!hasCapinfos)('capinfos counts the written packets', async () => {
    const { records } = readCaptureFile(corpusPath('whatsapp.pcap'));
    const out = path.join(tmp, 'capinfos.pcap');
    await writeAll(out, records, 1, 'pcap');
    const text = execFileSync('capinfos', ['-c', '-M', out], { encoding: 'utf8' });
    expect(text).toMatch(new RegExp(`Number of packets:\\s+${records.length}\\b`));
  });
});
