// The zero-copy runner (runtime/run/resident.ts) against the copying one
// (runCaptures with zeroCopy: false): over every corpus capture, broken
// ones included, at layers 2 and 3, with normal and tiny reads (every
// record straddles reads), the same verdict on every packet, the same
// counts, error texts, accepted frames and read errors (offset included).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CaptureRecord } from '../runtime/capture/read.js';
import { loadEngine, type LoadedFilter } from '../runtime/engine/load.js';
import { runCaptureResident } from '../runtime/run/resident.js';
import { writeDescriptor } from '../runtime/engine/wasm.js';
import { runCaptures, type RunOptions, type RunSummary } from '../runtime/run/run.js';
import { CaptureTally, VerdictPolicy, zeroCounts } from '../runtime/run/verdicts.js';
import type { Layer } from '../runtime/capture/link.js';
import { WasmFilter } from '../runtime/engine/wasm.js';
import { CORPUS, REPO, SHARED } from './support/paths.js';

const captures = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort().map((f) => join(CORPUS, f));

let tmp: string;
const scripts: Record<string, string> = {};
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'luapf-zc-'));
  // Errors on some packets (IPv6; packets too short for byte 20), accepts others.
  scripts.errors = join(tmp, 'errors.lua');
  writeFileSync(scripts.errors, [
    "local data = require'data'",
    'local l = data.layout{ version = {0, 4}, b = {160, 8} }',
    'function filter(pkt)',
    '  pkt:layout(l)',
    "  if pkt.version == 6 then error('v6 packet') end",
    '  return pkt.b + 0 > 100',
    'end',
  ].join('\n'));
  // Recursion as deep as the packet is long, squared: long packets pass the call-depth limit
  // (docs/SEMANTICS.md; before the limit, they exhausted the Wasm stack: a trap).
  scripts.trap = join(tmp, 'trap.lua');
  writeFileSync(scripts.trap, [
    'local function depth(n)',
    '  if n == 0 then return 0 end',
    '  return 1 + depth(n - 1)',
    'end',
    'function filter(pkt) return depth(#pkt * #pkt) % 2 == 0 end',
  ].join('\n'));
  scripts.port80 = join(SHARED, 'bench', 'filters', 'tcp-port-80.lua');
  scripts.sni = join(REPO, 'examples', 'tls-sni-blocklist.lua');
});

const load = (path: string): Promise<LoadedFilter> => loadEngine({ path, engine: 'wasm', limits: { fuel: 50_000_000 } });

interface Trace {
  verdicts: string[];
  accepted: string[];
  summaries: unknown[];
  thrown: string[];
}

/** Runs the captures one by one on one filter instance, recording everything observable. */
async function trace(filter: LoadedFilter, layer: Layer, extra: RunOptions, files = captures): Promise<Trace> {
  const t: Trace = { verdicts: [], accepted: [], summaries: [], thrown: [] };
  for (const capture of files) {
    try {
      const summary = await runCaptures(filter, [capture], {
        layer,
        batchSize: 64,
        ...extra,
        onVerdict: (c, n, v, m) => t.verdicts.push(`${c}#${n} ${v} ${m ?? ''}`),
        onAccept: (r: CaptureRecord) => t.accepted.push(`${r.linkType} ${r.tsSec}.${r.tsNsec} ${r.origLen} ${r.offset} ${Buffer.from(r.data).toString('hex')}`),
        // linkTypes grows as interfaces are met, so it depends on how much was read when the header is announced.
        onCaptureStart: (c, info) => t.verdicts.push(`start ${c} ${JSON.stringify({ ...info, linkTypes: undefined })}`),
      });
      t.summaries.push(summary);
    } catch (e) {
      // e.g. LinkTypeError at layer 3: the packets before it are in t.verdicts
      t.thrown.push(`${capture}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  return t;
}

describe('zero-copy luapf run agrees with the copying path', () => {
  // Traps unwind a deep stack and cost milliseconds each: that filter runs on the small captures only.
  const small = captures.filter((f) => readFileSync(f).length < 20_000);
  const cases: [string, Layer, string[]][] = [
    ['port80', 3, captures], ['port80', 2, captures], ['errors', 3, captures], ['errors', 2, captures],
    ['sni', 3, captures], ['trap', 3, small], ['trap', 2, small],
  ];
  for (const [name, layer, files] of cases) {
    {
      it(`${name}, layer ${layer}`, async () => {
        const copying = await load(scripts[name]);
        const resident = await load(scripts[name]);
        const tiny = await load(scripts[name]);
        expect(resident.resident?.()).toBeDefined();
        const want = await trace(copying, layer, { zeroCopy: false }, files);
        const got = await trace(resident, layer, {}, files);
        const gotTiny = await trace(tiny, layer, { chunkBytes: 7 }, files);
        expect(want.verdicts.length).toBeGreaterThan(files === captures ? 9000 : 100);
        expect(got).toEqual(want);
        expect(gotTiny).toEqual(want);
      }, 60_000);
    }
  }

  it('the corpus exercises errors, traps, accepts and read errors', async () => {
    const seen = async (name: string) => trace(await load(scripts[name]), 3, {});
    const errors = await seen('errors');
    expect(errors.verdicts.some((v) => v.includes(' error ') && v.includes('errors.lua:5:'))).toBe(true);
    expect(errors.verdicts.some((v) => v.includes(' accept '))).toBe(true);
    const trap = await trace(await load(scripts.trap), 3, {}, captures.filter((f) => readFileSync(f).length < 20_000));
    expect(trap.verdicts.some((v) => / error \S*trap\.lua:3:14: stack overflow \(more than 150 nested calls\)/.test(v))).toBe(true);
    const reads = (errors.summaries as { captures: { readError?: { offset: number } }[] }[]).flatMap((s) => s.captures).filter((c) => c.readError);
    expect(reads.length).toBeGreaterThan(0);
  }, 60_000);
});

/** Old path over an in-memory stream vs runCaptureResident over the same bytes in small pieces. */
async function streamed(bytes: Buffer, piece: number, chunkBytes: number) {
  const filter = (await load(scripts.port80)) as unknown as WasmFilter;
  const counts = zeroCounts();
  const verdicts: string[] = [];
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += piece) pieces.push(bytes.subarray(i, i + piece));
  let error: string | undefined;
  try {
    const tally = new CaptureTally('s', counts, new VerdictPolicy('drop', 10), (_c, n, v) => verdicts.push(`${n} ${v}`));
    await runCaptureResident(filter, Readable.from(pieces), { layer: 3, batchSize: 16, chunkBytes, tally, callbacks: {} });
  } catch (e) {
    error = (e as Error).message;
  }
  return { counts, verdicts, error };
}

describe('zero-copy and link types layer 3 cannot strip', () => {
  it('both paths end the capture with the same error at the record\'s offset', async () => {
    const file = Buffer.alloc(24 + 2 * (16 + 20));
    file.writeUInt32LE(0xa1b2c3d4, 0);
    file.writeUInt16LE(2, 4);
    file.writeUInt16LE(4, 6);
    file.writeUInt32LE(147, 20); // USER0
    for (let i = 0; i < 2; i++) { file.writeUInt32LE(20, 24 + i * 36 + 8); file.writeUInt32LE(20, 24 + i * 36 + 12); }
    const path = join(tmp, 'user0.pcap');
    writeFileSync(path, file);
    const want = await trace(await load(scripts.port80), 3, { zeroCopy: false }, [path]);
    const got = await trace(await load(scripts.port80), 3, {}, [path]);
    expect(want.thrown).toEqual([]);
    expect((want.summaries[0] as RunSummary).captures[0].readError).toEqual({
      offset: 24, message: expect.stringMatching(/user0\.pcap: offset 24: unsupported link type 147/),
    });
    expect(got).toEqual(want);
    const layer2 = await trace(await load(scripts.port80), 2, {}, [path]);
    expect(layer2.thrown).toEqual([]);
    expect(layer2.verdicts).toHaveLength(3);
  });
});

describe('zero-copy reading from a stream', () => {
  it('records straddling stream chunks and reads give the file path result', async () => {
    for (const file of ['many-protocols.pcap', 'be_test100.pcapng', 'nanosecs_big_endian.pcap', 'pcapng-example.pcapng']) {
      const path = join(CORPUS, file);
      const want: string[] = [];
      const summary = await runCaptures(await load(scripts.port80), [path], { zeroCopy: false, onVerdict: (_c, n, v) => want.push(`${n} ${v}`) });
      const bytes = readFileSync(path);
      for (const [piece, chunk] of [[5, 1 << 20], [1 << 16, 13], [977, 3000]]) {
        const got = await streamed(bytes, piece, chunk);
        expect(got.verdicts).toEqual(want);
        expect(got.counts.accepted).toBe(summary.total.accepted);
        expect(got.error).toBeUndefined();
      }
    }
  }, 60_000);

  it('a stream cut inside a record keeps the packets before it and reports the offset', async () => {
    const bytes = readFileSync(join(CORPUS, 'ssh.pcap')).subarray(0, 5000);
    const got = await streamed(bytes, 100, 64);
    expect(got.error).toMatch(/^s: offset \d+: truncated record/);
    expect(got.counts.packets).toBeGreaterThan(0);
    expect(got.counts.packets).toBeLessThan(54);
  });

  it('a stream of text is refused with the capture error', async () => {
    const filter = (await load(scripts.port80)) as unknown as WasmFilter;
    const tally = new CaptureTally('t', zeroCounts(), new VerdictPolicy('drop', 10));
    await expect(runCaptureResident(filter, Readable.from(['not bytes']), {
      layer: 3, batchSize: 16, chunkBytes: 1024, tally, callbacks: {},
    })).rejects.toThrow(/t: offset 0: stream delivered text/);
  });
});

describe('zero-copy memory bounds', () => {
  it('memory stays at tables + one read region over a capture many times larger', async () => {
    const filter = (await load(scripts.port80)) as unknown as WasmFilter;
    const before = filter.memory.buffer.byteLength;
    const path = join(CORPUS, 'many-protocols.pcap'); // 2.9 MB
    const s = await runCaptures(filter, [path], { chunkBytes: 64 * 1024 });
    expect(s.total.packets).toBe(4709);
    expect(filter.memory.buffer.byteLength - before).toBeLessThanOrEqual(256 * 20 + 2 * 65536 + 65536);
  });

  it('a record larger than the memory cap allows is a read error, not a crash', async () => {
    const filter = (await loadEngine({ path: scripts.port80, engine: 'wasm', limits: { memoryBytes: 4 * 65536 } })) as unknown as WasmFilter;
    // classic pcap, Ethernet, one 300 KB frame: more than the 256 KiB cap
    const big = Buffer.alloc(24 + 16 + 300_000);
    big.writeUInt32LE(0xa1b2c3d4, 0);
    big.writeUInt16LE(2, 4);
    big.writeUInt16LE(4, 6);
    big.writeUInt32LE(1, 20);
    big.writeUInt32LE(300_000, 24 + 8);
    big.writeUInt32LE(300_000, 24 + 12);
    const path = join(tmp, 'big-frame.pcap');
    writeFileSync(path, big);
    const s = await runCaptures(filter, [path, join(CORPUS, 'ssh.pcap')], {});
    expect(s.captures[0].readError?.offset).toBe(24);
    expect(s.captures[0].readError?.message).toMatch(/300016-byte record does not fit the filter's memory cap/);
    expect(s.captures[1].packets).toBe(54);
    expect(filter.memory.buffer.byteLength).toBeLessThanOrEqual(4 * 65536);
  });
});

describe('i64 capture times', () => {
  it('writeDescriptor\'s time words match BigInt arithmetic', () => {
    const words = new Uint32Array(4);
    fc.assert(fc.property(
      fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
      fc.integer({ min: 0, max: 999_999_999 }),
      (sec, nsec) => {
        writeDescriptor(words, 0, 0, 0, sec, nsec);
        const v = BigInt.asUintN(64, BigInt(sec) * 1_000_000_000n + BigInt(nsec));
        expect([words[2], words[3]]).toEqual([Number(v & 0xffffffffn), Number(v >> 32n)]);
      },
    ), { numRuns: 2000 });
  });
});

describe('luapf run (compiled) from standard input', () => {
  const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');
  beforeAll(() => {
    if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  });
  it('gives the same counts and output frames as the path', () => {
    for (const file of ['ssh.pcap', 'many_interfaces-1.pcapng']) {
      const path = join(CORPUS, file);
      const run = (args: string[], input?: Buffer) => spawnSync(process.execPath, [CLI, 'run', scripts.port80, ...args, '--json', '--engine', 'wasm'], { input, maxBuffer: 64 << 20 });
      const fromFile = run([path]);
      const fromStdin = run(['-'], readFileSync(path));
      expect(fromStdin.status, fromStdin.stderr.toString()).toBe(0);
      const a = JSON.parse(fromFile.stdout.toString());
      const b = JSON.parse(fromStdin.stdout.toString());
      expect(b.engine).toBe('wasm');
      expect(b.total).toMatchObject({ packets: a.total.packets, accepted: a.total.accepted, rejected: a.total.rejected, errors: a.total.errors });
      const out = join(tmp, `${file}.out`);
      const w = run(['-', '-w', out, '-F', 'pcapng'], readFileSync(path));
      expect(w.status).toBe(0);
      expect(JSON.parse(w.stdout.toString()).total.accepted).toBe(a.total.accepted);
    }
  });
});
