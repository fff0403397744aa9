// The benchmark's data path and the compile cache: packet sets built from
// the columnar index equal those built from records, the zero-copy Wasm
// pass counts the same verdicts as the generic path and the baselines, the
// compile cache hits on a second compile and never on a change, and the
// built CLI's bench reports agreeing counts (workers included) and runs
// .wasm modules without loading binaryen.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TS_BASELINES, baselineWat } from '../bench/baselines.js';
import { PAYLOAD_BASELINES } from '../bench/payload-baselines.js';
import { benchFilter, loadPacketSet, packetSetFromRecords, warmUp } from '../runtime/bench/measure.js';
import { aggregateMpps } from '../runtime/bench/workers.js';
import { readCaptureFile } from '../runtime/capture/read.js';
import { cacheDir, cacheStats, compileCached } from '../runtime/engine/compile-cache.js';
import { ACCEPT, REJECT, type Filter, type PacketBatch } from '../runtime/engine/filter.js';
import { loadEngine } from '../runtime/engine/load.js';
import { WasmFilter } from '../runtime/engine/wasm.js';
import { CORPUS, REPO, SHARED } from './support/paths.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');
const MANY = join(CORPUS, 'many-protocols.pcap');
const IP_LUA = join(SHARED, 'bench', 'filters', 'ip.lua');
const PORT80_LUA = join(SHARED, 'bench', 'filters', 'tcp-port-80.lua');
const quick = { samples: 1, sampleSeconds: 0.01, warmupSeconds: 0 };

let tmp: string;
beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  tmp = mkdtempSync(join(tmpdir(), 'luapf-bench-'));
});

function checkFilter(check: (b: Uint8Array, o: number, n: number) => boolean): Filter {
  return {
    engine: 'baseline',
    filterBatch(batch: PacketBatch, verdicts: Uint8Array) {
      for (let i = 0; i < batch.count; i++) verdicts[i] = check(batch.bytes, batch.offsets[i], batch.lengths[i]) ? ACCEPT : REJECT;
      return [];
    },
    close() {},
  };
}

async function handWasm(name: string, prefetch = 0): Promise<Uint8Array> {
  const { default: binaryen } = await import('binaryen');
  const m = binaryen.parseText(baselineWat(name, prefetch));
  m.setFeatures(binaryen.Features.MutableGlobals);
  const info = { abi: 1, compiler: 'hand', source: `${name}.wat`, sourceHash: '', options: {}, memory: { minPages: 1 }, errors: [] };
  m.addCustomSection('luapf', new TextEncoder().encode(JSON.stringify(info)));
  expect(m.validate()).toBeTruthy();
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

describe('packet sets', () => {
  it('the columnar set holds the same packets and times as the record set', () => {
    const a = loadPacketSet(MANY);
    const b = packetSetFromRecords('x', readCaptureFile(MANY).records);
    expect(a.count).toBe(b.count);
    expect(a.totalBytes).toBe(b.totalBytes);
    for (let i = 0; i < a.count; i++) {
      const pa = a.bytes.subarray(a.offsets[i], a.offsets[i] + a.lengths[i]);
      const pb = b.bytes.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]);
      expect(Buffer.compare(pa, pb)).toBe(0);
      expect(a.timestampsSec[i]).toBe(b.timestampsSec[i]);
      expect(a.timestampsNsec[i]).toBe(b.timestampsNsec[i]);
    }
  });
});

describe('benchFilter', () => {
  const set = loadPacketSet(MANY);
  const expected = (check: (b: Uint8Array, o: number, n: number) => boolean) => {
    let n = 0;
    for (let i = 0; i < set.count; i++) if (check(set.bytes, set.offsets[i], set.lengths[i])) n++;
    return n;
  };

  it('zero-copy Wasm pass, generic pass and the direct count agree, for several batch sizes', async () => {
    const want = expected(TS_BASELINES['tcp-port-80']);
    expect(want).toBeGreaterThan(0);
    expect(want).toBeLessThan(set.count);
    // the hand-written loop with and without the compiled modules' touch-ahead
    for (const [batchSize, prefetch] of [[1, 0], [7, 0], [1024, 0], [100_000, 0], [1, 16], [7, 3], [1024, 16]] as const) {
      const bytes = await handWasm('tcp-port-80', prefetch);
      const wasm = benchFilter(new WasmFilter(bytes, { memoryBytes: 64 << 20 }), set, { ...quick, batchSize });
      expect(wasm.accepted).toBe(want);
      expect(wasm.errors).toBe(0);
      expect(wasm.samples).toHaveLength(1);
      expect(wasm.medianMpps).toBeGreaterThan(0);
    }
    const ts = benchFilter(checkFilter(TS_BASELINES['tcp-port-80']), set, quick);
    expect(ts.accepted).toBe(want);
  });

  it('counts accepts and errors the same on both engines when some packets fail', async () => {
    // errors on IPv6, accepts TCP over IPv4: batches with and without error words
    const source = `local data = require'data'
local ip = data.layout{ version = {0, 4}, protocol = {72, 8} }
function filter(pkt)
  pkt:layout(ip)
  if pkt.version == 6 then error('v6') end
  return pkt.version == 4 and pkt.protocol == 6
end`;
    const counts = [];
    for (const engine of ['wasm', 'lua'] as const) {
      for (const batchSize of [1, 64, 1024]) {
        const f = await loadEngine({ source, name: 'errs.lua', engine });
        const r = benchFilter(f, set, { ...quick, batchSize });
        f.close();
        counts.push({ accepted: r.accepted, errors: r.errors });
      }
    }
    expect(counts[0]!.errors).toBeGreaterThan(0);
    expect(counts[0]!.accepted).toBeGreaterThan(0);
    for (const c of counts) expect(c).toEqual(counts[0]);
  });

  it('the compiled classic filter agrees with its hand-written baseline', async () => {
    const f = await loadEngine({ path: PORT80_LUA, engine: 'wasm' });
    expect(benchFilter(f, set, quick).accepted).toBe(expected(TS_BASELINES['tcp-port-80']));
  });

  it('payload baselines agree with the examples run by the interpreter', async () => {
    for (const [path, check] of Object.values(PAYLOAD_BASELINES)) {
      const f = await loadEngine({ path: join(REPO, path), engine: 'lua' });
      const r = benchFilter(f, set, { ...quick, sampleSeconds: 0.001 });
      f.close();
      expect(r.accepted, path).toBe(expected(check));
    }
  }, 60_000);
});

describe('honest figures', () => {
  const busy = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end); };

  it('a scaling sample counts workers as parallel only while they overlap in time', () => {
    const ms = 1e6;
    // two workers, 1000 packets in 1 ms each: side by side 2 Mpps, one after the other 1 Mpps (a sum of rates said 2)
    expect(aggregateMpps([{ packets: 1000, startNs: 0, endNs: ms }, { packets: 1000, startNs: 0, endNs: ms }])).toBeCloseTo(2);
    expect(aggregateMpps([{ packets: 1000, startNs: 0, endNs: ms }, { packets: 1000, startNs: ms, endNs: 2 * ms }])).toBeCloseTo(1);
    expect(aggregateMpps([{ packets: 1000, startNs: 0, endNs: ms }])).toBeCloseTo(1);
  });

  it('warm-up lasts at least as asked, ends once two slices agree, is bounded, and 0 means none', () => {
    const steady = warmUp(() => { busy(2); return { accepted: 0, errors: 0, packets: 1000 }; }, 0.1e9);
    expect(steady.settled).toBe(true);
    expect(steady.seconds).toBeGreaterThanOrEqual(0.1);
    expect(steady.seconds).toBeLessThan(2.2);
    // a rate that swings 3× from one slice to the next (a slice starts after warmUp's pause) never
    // settles: the time bound (0.05 s + 2 s) ends it
    let last = 0;
    let slow = false;
    const swinging = warmUp(() => {
      if (performance.now() - last > 8) slow = !slow;
      busy(slow ? 3 : 1);
      last = performance.now();
      return { accepted: 0, errors: 0, packets: 1000 };
    }, 0.05e9);
    expect(swinging.settled).toBe(false);
    expect(swinging.seconds).toBeGreaterThanOrEqual(2);
    expect(swinging.seconds).toBeLessThan(3);
    expect(warmUp(() => { throw new Error('not called'); }, 0)).toEqual({ seconds: 0, settled: false });
  }, 20_000);

  it('loadEngine takes a compile done elsewhere instead of compiling', async () => {
    const other = await compileCached('function filter(pkt) return #pkt == 3 end', { file: 'three.lua' }, { cache: false });
    const f = await loadEngine({ source: 'function filter(pkt) return true end', name: 'any.lua', compiled: other });
    const verdicts = new Uint8Array(2);
    f.filterBatch(packetSetFromRecords('x', [3, 4].map((n) => ({ linkType: 101, tsSec: 0, tsNsec: 0, origLen: n, offset: 0, data: new Uint8Array(n) }))), verdicts);
    expect([...verdicts]).toEqual([ACCEPT, REJECT]);
    f.close();
  });
});

describe('compile cache', () => {
  it('compiles once for the same source and options, again when they change', async () => {
    const saved = process.env.LUAPF_CACHE_DIR;
    process.env.LUAPF_CACHE_DIR = join(tmp, 'cache');
    try {
      const src = `local data = require'data'\nlocal ip = data.layout{ version = {0, 4} }\nfunction filter(pkt) return pkt:layout(ip).version == 4 end\n`;
      const before = { ...cacheStats };
      const a = await compileCached(src, { file: 'v.lua' });
      expect(a.ok).toBe(true);
      const b = await compileCached(src, { file: 'v.lua' });
      expect(cacheStats.misses - before.misses).toBe(1);
      expect(cacheStats.hits - before.hits).toBe(1);
      expect(a.ok && b.ok && Buffer.compare(a.wasm, b.wasm)).toBe(0);
      await compileCached(src, { file: 'v.lua', fuel: 5 });
      await compileCached(`${src} `, { file: 'v.lua' });
      expect(cacheStats.misses - before.misses).toBe(3);
      await compileCached(src, { file: 'v.lua' }, { cache: false });
      expect(cacheStats.misses - before.misses).toBe(4);
      // A corrupt entry is recompiled, not trusted.
      for (const f of readdirSync(join(tmp, 'cache'))) writeFileSync(join(tmp, 'cache', f), 'junk');
      const c = await compileCached(src, { file: 'v.lua' });
      expect(c.ok && Buffer.compare(c.wasm, a.ok ? a.wasm : new Uint8Array())).toBe(0);
      expect(cacheStats.misses - before.misses).toBe(5);
    } finally {
      if (saved === undefined) delete process.env.LUAPF_CACHE_DIR;
      else process.env.LUAPF_CACHE_DIR = saved;
    }
  }, 30_000);

  it('can be switched off', () => {
    expect(cacheDir({ LUAPF_CACHE: 'off' })).toBeUndefined();
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/luapf');
    expect(cacheDir({ LUAPF_CACHE_DIR: '/y', XDG_CACHE_HOME: '/x' })).toBe('/y');
  });

  it('behaves as the README documents it', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The compile cache'), readme.indexOf('### What `pkt` is'));
    expect(section).toMatch(/`\$LUAPF_CACHE_DIR` if set, else `\$XDG_CACHE_HOME\/luapf`, else\s+`~\/\.cache\/luapf`/);
    expect(cacheDir({ HOME: homedir() })).toBe(join(homedir(), '.cache', 'luapf'));
    const off = /`LUAPF_CACHE=off` \(or `0`, `false`, `no`\)/.exec(section);
    expect(off).not.toBeNull();
    for (const value of ['off', '0', 'false', 'no', 'OFF']) expect(cacheDir({ LUAPF_CACHE: value })).toBeUndefined();
    expect(cacheDir({ LUAPF_CACHE: 'on', LUAPF_CACHE_DIR: '/y' })).toBe('/y');
  });
});

describe('npm run bench (built)', () => {
  it('measures a classic filter compiled, hand-written and interpreted, side by side, and the counts agree', () => {
    const out = join(tmp, 'suite.json');
    const r = spawnSync(process.execPath, [join(REPO, 'dist', 'bench', 'suite.js'), '--filters', 'ip', '--captures', 'many-protocols', '--payload', '',
      '--samples', '1', '--seconds', '0.01', '--out', out], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const cell = JSON.parse(readFileSync(out, 'utf8')).cells[0];
    expect(Object.keys(cell.results).sort()).toEqual(['hand-ts', 'hand-wasm', 'luapf-lua', 'luapf-wasm']);
    expect(cell.agree).toBe(true);
    // three runners side by side, each set up first once: one sample per set-up order
    expect(cell.results['luapf-wasm'].samples).toHaveLength(3);
    expect(cell.results['luapf-wasm'].accepted).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/^ip \| [\d.]+ \(/m);
  }, 120_000);
});

describe('npm run bench:ab (built)', () => {
  const AB = join(REPO, 'dist', 'bench', 'ab.js');
  const ab = (args: string[]) => spawnSync(process.execPath, [AB, ...args], { cwd: REPO, encoding: 'utf8' });

  it('measures compile-option variants of one filter in one process, every setup order, and checks they agree', () => {
    const out = join(tmp, 'ab.json');
    const r = ab([PORT80_LUA, '--variant', 'on={"prefetch":16}', '--variant', 'off={"prefetch":0}', '--captures', 'many-protocols',
      '--rounds', '2', '--seconds', '0.01', '--out', out]);
    expect(r.stderr).not.toMatch(/bench:ab:/);
    expect(r.status).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const results = doc.cells[0].results as { label: string; samples: number[]; accepted: number; vsFirst: number }[];
    expect(results.map((x) => x.label)).toEqual(['on', 'off']);
    // two setup orders × two rounds
    for (const x of results) expect(x.samples).toHaveLength(4);
    expect(results[0]!.accepted).toBe(results[1]!.accepted);
    expect(results[0]!.accepted).toBeGreaterThan(0);
    expect(results[0]!.vsFirst).toBe(1);
  }, 60_000);

  it('usage errors exit 2 and say why', () => {
    const one = ab([PORT80_LUA, '--variant', 'a={}']);
    expect(one.status).toBe(2);
    expect(one.stderr).toMatch(/at least two --variant/);
    const bad = ab([PORT80_LUA, '--variant', 'a={}', '--variant', 'b={"speed":1}']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option speed/);
  });
});

describe('luapf bench (built CLI)', () => {
  const luapf = (args: string[], extra: string[] = [], cache = 'cli-cache') =>
    spawnSync(process.execPath, [...extra, CLI, ...args], {
      cwd: REPO, encoding: 'utf8', env: { ...process.env, LUAPF_CACHE_DIR: join(tmp, cache) }, maxBuffer: 64 << 20,
    });

  it('measures a filter on both engines over the built-in traffic, with workers, and the counts agree', () => {
    const r = luapf(['bench', PORT80_LUA, '--json', '--samples', '1', '--seconds', '0.02', '--warmup', '0.01', '--workers', '2']);
    expect(r.stderr).not.toMatch(/disagree|error/i);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    const results = doc.filters[0].results as { engine: string; workers?: number; accepted: number; capture: string }[];
    expect(results.map((x) => `${x.engine}${x.workers ?? ''}`).sort()).toEqual(['lua', 'lua1', 'lua2', 'wasm', 'wasm1', 'wasm2']);
    expect(new Set(results.map((x) => x.accepted)).size).toBe(1);
    expect(results[0].capture).toMatch(/synthetic/);
    // one worker and two, from one pool, samples in pairs; the machine's cores beside the figure
    const scaling = doc.filters[0].scaling as { workers: number; cores: number; ratio: number; pairRatios: number[] }[];
    expect(scaling).toHaveLength(2);
    for (const s of scaling) {
      expect(s).toMatchObject({ workers: 2, cores: availableParallelism() });
      expect(s.pairRatios).toHaveLength(1);
      expect(s.ratio).toBeGreaterThan(0);
    }
    // the bandwidth figure says what it counts; every result says how its warm-up ended
    for (const x of results as Record<string, unknown>[]) {
      expect(x.offeredGbps).toBeGreaterThan(0);
      expect(x).not.toHaveProperty('gbps');
      expect(x.warmup).toMatchObject({ seconds: expect.any(Number), settled: expect.any(Boolean) });
    }
  }, 120_000);

  it('shares a capture file with workers without a deprecation warning', () => {
    const r = luapf(['bench', PORT80_LUA, MANY, '--engine', 'wasm', '--samples', '1', '--seconds', '0.02', '--warmup', '0.01', '--workers', '2', '-q']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/2 workers = [\d.]+× one worker \(sample pairs [\d.]+–[\d.]+×; \d+ cores; each worker filters the whole capture\)/);
    expect(r.stdout).toMatch(/Gbit\/s offered/);
  }, 60_000);

  it('runs and benches a .wasm module (and a cached script) without loading binaryen', () => {
    // A first, ordinary run fills the cache; its entry is a .wasm module.
    expect(luapf(['run', IP_LUA, MANY, '--engine', 'wasm'], [], 'aot-cache').status).toBe(0);
    const dir = join(tmp, 'aot-cache');
    const entries = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
    expect(entries).toHaveLength(1);
    const wasm = join(dir, entries[0]);
    const hooks = join(tmp, 'no-binaryen.mjs');
    writeFileSync(hooks, `export async function resolve(spec, ctx, next) {
  if (spec === 'binaryen') throw new Error('binaryen was loaded');
  return next(spec, ctx);
}\n`);
    const register = join(tmp, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
    const guarded = (args: string[]) => luapf(args, ['--import', register], 'aot-cache');
    const run = guarded(['run', wasm, MANY, '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const bench = guarded(['bench', wasm, MANY, '--json', '--samples', '1', '--seconds', '0.01', '--warmup', '0.01', '--engine', 'wasm']);
    expect(bench.stderr).toBe('');
    expect(bench.status).toBe(0);
    // A script whose module is cached: the compiler is not needed either.
    const cached = guarded(['run', IP_LUA, MANY, '--engine', 'wasm', '--json']);
    expect(cached.stderr).toBe('');
    expect(JSON.parse(cached.stdout).total.accepted).toBe(JSON.parse(run.stdout).total.accepted);
  }, 60_000);
});
