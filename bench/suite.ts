// `npm run bench`: the classic pflua-bench filters over the captures of
// ../shared/bench/gen_captures.py (and many-protocols.pcap), each measured
// compiled, interpreted, and against hand-written baselines (TypeScript and
// Wasm) doing the same check, in one run: the compiled and hand-written
// runners side by side (bench/interleave.ts). Writes JSON; prints the table of
// ../shared/bench/README.md with luapf's figures beside the reference ones.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { benchFilter, memoryFor, packetSetFromRecords, type BenchResult, type PacketSet } from '../runtime/bench/measure.js';
import { benchCaptures, CAPTURE_NAMES, REPO_ROOT as root, SHARED as shared } from './captures.js';
import { interleaved } from './interleave.js';
import { syntheticTraffic } from '../runtime/bench/traffic.js';
import { ACCEPT, REJECT, type Filter, type FilterError, type PacketBatch } from '../runtime/engine/filter.js';
import { loadEngine } from '../runtime/engine/load.js';
import { compile } from '../compiler/index.js';
import { ABI_VERSION, SECTION_NAME } from '../compiler/abi.js';
import { WasmFilter, readModuleInfo } from '../runtime/engine/wasm.js';
import { BASELINE_NAMES, TS_BASELINES, baselineWat, type PacketCheck } from './baselines.js';
import { PAYLOAD_BASELINES } from './payload-baselines.js';


/** Reference figures of ../shared/bench/README.md: [libpcap, pflua] Mpps. */
const REFERENCE: Record<string, Record<string, [number, number]>> = {
  'ip': { 'ping-flood': [32.7, 70.4], 'tcp-1k': [33.4, 72.2], 'web-mix': [18.5, 49.8], 'many-protocols': [114.7, 483.7] },
  'tcp-port-80': { 'ping-flood': [36.5, 78.2], 'tcp-1k': [13.3, 35.2], 'web-mix': [9.6, 21.7], 'many-protocols': [31.3, 104.0] },
  'tcp-port-5555': { 'ping-flood': [40.4, 87.8], 'tcp-1k': [12.6, 31.9], 'web-mix': [9.6, 23.0], 'many-protocols': [32.7, 162.8] },
  'portrange-0-6000': { 'ping-flood': [26.4, 60.0], 'tcp-1k': [11.1, 27.7], 'web-mix': [7.4, 13.8], 'many-protocols': [26.1, 152.7] },
  'icmp': { 'ping-flood': [41.5, 72.6], 'tcp-1k': [29.9, 59.9], 'web-mix': [12.9, 37.7], 'many-protocols': [83.6, 234.6] },
  'tcp-syn': { 'ping-flood': [42.2, 76.8], 'tcp-1k': [11.8, 34.7], 'web-mix': [8.9, 21.6], 'many-protocols': [42.5, 148.3] },
};

interface SuiteOptions {
  scale: number;
  samples: number;
  seconds: number;
  out: string;
  filters: string[];
  captures: string[];
  interpreter: boolean;
  payload: string[];
}

function parseArgs(argv: string[]): SuiteOptions {
  const o: SuiteOptions = {
    scale: 0.05, samples: 5, seconds: 0.5, out: join(root, 'bench-results', 'classic.json'),
    filters: BASELINE_NAMES, captures: CAPTURE_NAMES, interpreter: true,
    payload: Object.keys(PAYLOAD_BASELINES),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--scale') o.scale = Number(next());
    else if (a === '--samples') o.samples = Number(next());
    else if (a === '--seconds') o.seconds = Number(next());
    else if (a === '--out') o.out = next();
    else if (a === '--filters') o.filters = next().split(',');
    else if (a === '--captures') o.captures = next().split(',');
    else if (a === '--no-interpreter') o.interpreter = false;
    else if (a === '--payload') o.payload = next().split(',').filter((x) => x !== '');
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench -- [--scale F] [--samples N] [--seconds S] [--filters a,b] [--captures a,b] [--no-interpreter] [--out FILE]
  --scale F     size of the generated captures relative to pflua-bench's (default 0.05; 1 = about 840 MB)
  --samples N   timed samples per runner, the median is reported (default 5; rounded up to a
                multiple of the runners measured side by side, each set up first in turn)
  --seconds S   minimum seconds per sample (default 0.5)
  --payload a,b payload filters of examples/ to measure (default: all; '' for none), over the captures plus synthetic-mix
`);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return o;
}

/** A Filter running a hand-written TypeScript check: the "same check in JS" baseline. */
class CheckFilter implements Filter {
  readonly engine = 'baseline' as const;
  constructor(private readonly check: PacketCheck) {}
  filterBatch(batch: PacketBatch, verdicts: Uint8Array): FilterError[] {
    const { bytes, offsets, lengths } = batch;
    for (let i = 0; i < batch.count; i++) verdicts[i] = this.check(bytes, offsets[i], lengths[i]) ? ACCEPT : REJECT;
    return [];
  }
  close(): void {}
}

async function baselineModule(name: string, prefetch: number): Promise<Uint8Array> {
  const { default: binaryen } = await import('binaryen');
  const module = binaryen.parseText(baselineWat(name, prefetch));
  // New binaryen modules enable no features; the ABI exports mutable globals.
  module.setFeatures(binaryen.Features.MutableGlobals);
  const info = { abi: ABI_VERSION, compiler: 'hand-written', source: `${name}.wat`, sourceHash: '', options: {}, memory: { minPages: 1 }, errors: [] };
  module.addCustomSection(SECTION_NAME, new TextEncoder().encode(JSON.stringify(info)));
  if (!module.validate()) throw new Error(`baseline ${name} does not validate`);
  const bytes = module.emitBinary();
  module.dispose();
  return bytes;
}

interface Cell {
  filter: string;
  capture: string;
  packets: number;
  results: Record<string, BenchResult>;
  /** runners that could not run this filter (e.g. luapf-wasm on a script outside the compiled subset) */
  skipped: Record<string, string>;
  reference: { libpcap: number; pflua: number } | null;
  ratios: Record<string, number>;
  agree: boolean;
}

type Runner = [label: string, make: () => Promise<Filter>];

async function measureCell(o: SuiteOptions, filter: string, set: PacketSet, runners: Runner[]): Promise<Cell> {
  const results: Record<string, BenchResult> = {};
  const skipped: Record<string, string> = {};
  const runnable: Runner[] = [];
  for (const [label, make] of runners) {
    try {
      (await make()).close();
      runnable.push([label, make]);
    } catch (e) {
      skipped[label] = (e as Error).message.replace(/\s*\n\s*/g, '; ');
      process.stderr.write(`${filter} × ${set.name}: ${label} not run: ${skipped[label]}\n`);
    }
  }
  // compiled and hand-written runners side by side, each set up first in turn (bench/interleave.ts)
  const fast = runnable.filter(([label]) => label !== 'luapf-lua');
  if (fast.length > 0) {
    process.stderr.write(`${filter} × ${set.name}: ${fast.map(([l]) => l).join(', ')} interleaved ...`);
    Object.assign(results, await interleaved(set, fast.map(([label, make]) => ({ label, make })), {
      rounds: Math.ceil(o.samples / fast.length), sampleSeconds: o.seconds, warmupSeconds: 0.3,
    }));
    process.stderr.write(` ${fast.map(([l]) => `${results[l]!.medianMpps.toFixed(2)}`).join(', ')} Mpps\n`);
  }
  // The interpreter is ~100× slower: alone, fewer and shorter samples keep the suite's time sane.
  const lua = runnable.find(([label]) => label === 'luapf-lua');
  if (lua) {
    process.stderr.write(`${filter} × ${set.name}: luapf-lua ...`);
    const f = await lua[1]();
    results['luapf-lua'] = benchFilter(f, set, { samples: Math.min(3, o.samples), sampleSeconds: Math.min(o.seconds, 0.5), warmupSeconds: 0 });
    f.close();
    process.stderr.write(` ${results['luapf-lua'].medianMpps.toFixed(3)} Mpps\n`);
  }
  const ratios: Record<string, number> = {};
  const wasm = results['luapf-wasm']?.medianMpps;
  if (wasm !== undefined) {
    for (const other of ['hand-wasm', 'hand-ts', 'luapf-lua']) {
      if (results[other]) ratios[`luapf-wasm/${other}`] = wasm / results[other].medianMpps;
    }
  } else if (results['hand-ts'] && results['luapf-lua']) {
    ratios['luapf-lua/hand-ts'] = results['luapf-lua'].medianMpps / results['hand-ts'].medianMpps;
  }
  const ref = REFERENCE[filter]?.[set.name];
  return {
    filter, capture: set.name, packets: set.count, results, skipped,
    reference: ref ? { libpcap: ref[0], pflua: ref[1] } : null, ratios,
    agree: new Set(Object.values(results).map((r) => r.accepted)).size === 1,
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const sets = benchCaptures(o.captures, o.scale);
  const cells: Cell[] = [];
  const memoryBytes = memoryFor(...sets);
  for (const name of o.filters) {
    const path = join(shared, 'bench', 'filters', `${name}.lua`);
    // the hand-written loop prefetches as far ahead as the compiled one
    const compiled = await compile(readFileSync(path, 'latin1'), { file: `${name}.lua` });
    const prefetch = compiled.ok ? Number(readModuleInfo(new WebAssembly.Module(compiled.wasm as Uint8Array<ArrayBuffer>)).options.prefetch ?? 0) : 0;
    const wasmBaseline = await baselineModule(name, prefetch);
    for (const set of sets) {
      const runners: Runner[] = [
        ['luapf-wasm', () => loadEngine({ path, engine: 'wasm', limits: { memoryBytes } })],
        ['hand-wasm', async () => new WasmFilter(wasmBaseline, { memoryBytes })],
        ['hand-ts', async () => new CheckFilter(TS_BASELINES[name])],
      ];
      if (o.interpreter) runners.push(['luapf-lua', () => loadEngine({ path, engine: 'lua', limits: { memoryBytes } })]);
      cells.push(await measureCell(o, name, set, runners));
    }
  }
  // Payload filters: the captures above have little payload of interest, so the built-in mix is added.
  const payloadSets = o.payload.length > 0 ? [packetSetFromRecords('synthetic-mix', syntheticTraffic()), ...sets] : [];
  const payloadMemory = payloadSets.length > 0 ? memoryFor(...payloadSets) : 0;
  for (const name of o.payload) {
    const entry = PAYLOAD_BASELINES[name];
    if (!entry) throw new Error(`unknown payload filter ${name} (known: ${Object.keys(PAYLOAD_BASELINES).join(', ')})`);
    const path = join(root, entry[0]);
    for (const set of payloadSets) {
      const runners: Runner[] = [
        ['luapf-wasm', () => loadEngine({ path, engine: 'wasm', limits: { memoryBytes: payloadMemory } })],
        ['hand-ts', async () => new CheckFilter(entry[1])],
      ];
      if (o.interpreter) runners.push(['luapf-lua', () => loadEngine({ path, engine: 'lua', limits: { memoryBytes: payloadMemory } })]);
      cells.push(await measureCell(o, name, set, runners));
    }
  }
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, options: o, cells }, null, 2)}\n`);
  process.stdout.write(formatTable(cells.filter((c) => o.filters.includes(c.filter)), sets.map((s) => s.name)));
  if (payloadSets.length > 0) {
    process.stdout.write(`\n${formatTable(cells.filter((c) => o.payload.includes(c.filter)), payloadSets.map((s) => s.name))}`);
  }
  process.stdout.write(`\nJSON: ${o.out}\n`);
  if (cells.some((c) => !c.agree)) {
    process.stderr.write('accept counts differ between luapf and the baselines: see "agree" in the JSON\n');
    process.exitCode = 3;
  }
}

const fmt = (r: BenchResult | undefined) => (r ? r.medianMpps.toFixed(r.medianMpps < 1 ? 3 : 1) : '-');

function formatTable(cells: Cell[], captures: string[]): string {
  const lines = [
    'Mpps, median of samples: luapf compiled (hand-written Wasm, TypeScript, luapf interpreted) [libpcap / pflua reference]; x: compiled / hand-written Wasm',
    ['filter', ...captures].join(' | '),
  ];
  for (const filter of [...new Set(cells.map((c) => c.filter))]) {
    const row = [filter];
    for (const capture of captures) {
      const c = cells.find((x) => x.filter === filter && x.capture === capture);
      if (!c) { row.push('-'); continue; }
      const r = c.results;
      const ref = c.reference ? ` [${c.reference.libpcap} / ${c.reference.pflua}]` : '';
      const vsHand = c.ratios['luapf-wasm/hand-wasm'] !== undefined ? ` x${c.ratios['luapf-wasm/hand-wasm'].toFixed(2)}` : '';
      const compiled = r['luapf-wasm'] ? fmt(r['luapf-wasm']) : 'not compiled';
      row.push(`${compiled} (${fmt(r['hand-wasm'])}, ${fmt(r['hand-ts'])}, ${fmt(r['luapf-lua'])})${vsHand}${ref}${c.agree ? '' : ' DISAGREE'}`);
    }
    lines.push(row.join(' | '));
  }
  return `${lines.join('\n')}\n`;
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
