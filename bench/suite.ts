// `npm run bench`: the classic pflua-bench filters over the captures of
// ../shared/bench/gen_captures.py (and many-protocols.pcap), each measured
// compiled, interpreted, and against hand-written baselines (TypeScript and
// Wasm) doing the same check, in one run: the compiled and hand-written
// runners side by side (bench/interleave.ts). libpcap's bpf_filter, and
// pflua's pipelines when a checkout is given, run on the same capture files
// right after (bench/peers.ts; `npm run bench:peers` is the pinned,
// full-size comparison). Writes JSON; prints the table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { benchFilter, loadPacketSet, memoryFor, packetSetFromRecords, type BenchResult, type PacketSet } from '../runtime/bench/measure.js';
import { capturePaths, CAPTURE_NAMES, REPO_ROOT as root, SHARED as shared } from './captures.js';
import { EXPRESSIONS, findBpfBench, findPflua, measureLibpcap, measurePflua, PFLUA_ENGINES, type PeerConfig, type PeerResult } from './peers.js';
import { interleaved } from './interleave.js';
import { syntheticTraffic } from '../runtime/bench/traffic.js';
import { ACCEPT, REJECT, type Filter, type FilterError, type PacketBatch } from '../runtime/engine/filter.js';
import { loadEngine } from '../runtime/engine/load.js';
import { compile } from '../compiler/index.js';
import { ABI_VERSION, SECTION_NAME } from '../compiler/abi.js';
import { WasmFilter, readModuleInfo } from '../runtime/engine/wasm.js';
import { BASELINE_NAMES, TS_BASELINES, baselineWat, type PacketCheck } from './baselines.js';
import { PAYLOAD_BASELINES } from './payload-baselines.js';


interface SuiteOptions {
  scale: number;
  samples: number;
  seconds: number;
  out: string;
  filters: string[];
  captures: string[];
  interpreter: boolean;
  payload: string[];
  peers: boolean;
  pflua?: string;
  dynasm?: string;
  bpfBench?: string;
}

function parseArgs(argv: string[]): SuiteOptions {
  const o: SuiteOptions = {
    scale: 0.05, samples: 5, seconds: 0.5, out: join(root, 'bench-results', 'classic.json'),
    filters: BASELINE_NAMES, captures: CAPTURE_NAMES, interpreter: true,
    payload: Object.keys(PAYLOAD_BASELINES), peers: true,
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
    else if (a === '--pflua') o.pflua = next();
    else if (a === '--dynasm') o.dynasm = next();
    else if (a === '--bpf-bench') o.bpfBench = next();
    else if (a === '--no-peers') o.peers = false;
    else if (a === '--payload') o.payload = next().split(',').filter((x) => x !== '');
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench -- [--scale F] [--samples N] [--seconds S] [--filters a,b] [--captures a,b] [--no-interpreter] [--out FILE]
  --scale F     size of the generated captures relative to pflua-bench's (default 0.05; 1 = about 840 MB)
  --samples N   timed samples per runner, the median is reported (default 5; rounded up to a
                multiple of the runners measured side by side, each set up first in turn)
  --seconds S   minimum seconds per sample (default 0.5)
  --payload a,b payload filters of examples/ to measure (default: all; '' for none), over the captures plus synthetic-mix
  --pflua DIR --dynasm DIR  also measure pflua's three pipelines (../shared/bench/peers/README.md; or LUAPF_PFLUA, LUAPF_DYNASM)
  --bpf-bench FILE          libpcap's timing loop (default: built from ../shared/bench/peers/bpf_bench.c when libpcap-dev is there)
  --no-peers                neither libpcap nor pflua
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
  /** libpcap and pflua on the same capture file, right after luapf (bench/peers.ts) */
  peers: Record<string, PeerResult>;
  ratios: Record<string, number>;
  agree: boolean;
}

type Runner = [label: string, make: () => Promise<Filter>];

/** libpcap and pflua's pipelines on the capture file, when they are set up; '' for a filter they have no expression for. */
function measurePeers(o: SuiteOptions, peers: PeerConfig, filter: string, capture: string): Record<string, PeerResult> {
  const expression = EXPRESSIONS[filter];
  const out: Record<string, PeerResult> = {};
  if (!expression) return out;
  const t = { samples: o.samples, seconds: o.seconds };
  if (peers.bpfBench) out.libpcap = measureLibpcap(peers, capture, [expression], t)[0]!;
  if (peers.pflua) for (const e of PFLUA_ENGINES) out[e] = measurePflua(peers, e, capture, expression, t);
  return out;
}

async function measureCell(o: SuiteOptions, filter: string, set: PacketSet, runners: Runner[], peerResults: () => Record<string, PeerResult> = () => ({})): Promise<Cell> {
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
  const peers = peerResults();
  if (Object.keys(peers).length > 0) process.stderr.write(`${filter} × ${set.name}: ${Object.values(peers).map((p) => `${p.engine} ${p.medianMpps.toFixed(2)}`).join(', ')} Mpps\n`);
  const ratios: Record<string, number> = {};
  const wasm = results['luapf-wasm']?.medianMpps;
  if (wasm !== undefined) {
    for (const other of ['hand-wasm', 'hand-ts', 'luapf-lua']) {
      if (results[other]) ratios[`luapf-wasm/${other}`] = wasm / results[other].medianMpps;
    }
    if (peers.libpcap) ratios['luapf-wasm/libpcap'] = wasm / peers.libpcap.medianMpps;
    const pflua = Math.max(0, ...PFLUA_ENGINES.map((e) => peers[e]?.medianMpps ?? 0));
    if (pflua > 0) ratios['luapf-wasm/pflua'] = wasm / pflua;
  } else if (results['hand-ts'] && results['luapf-lua']) {
    ratios['luapf-lua/hand-ts'] = results['luapf-lua'].medianMpps / results['hand-ts'].medianMpps;
  }
  return {
    filter, capture: set.name, packets: set.count, results, skipped, peers, ratios,
    agree: new Set(Object.values(results).map((r) => r.accepted)).size === 1,
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const files = capturePaths(o.captures, o.scale);
  const sets = files.map(({ name, path }) => loadPacketSet(path, 3, name));
  const peers: PeerConfig = o.peers ? { bpfBench: findBpfBench(o.bpfBench), pflua: findPflua(o.pflua, o.dynasm) } : {};
  if (o.peers && !peers.pflua) process.stderr.write('pflua not measured: give --pflua DIR --dynasm DIR (../shared/bench/peers/README.md)\n');
  const cells: Cell[] = [];
  const memoryBytes = memoryFor(...sets);
  for (const name of o.filters) {
    const path = join(shared, 'bench', 'filters', `${name}.lua`);
    // the hand-written loop prefetches as far ahead as the compiled one
    const compiled = await compile(readFileSync(path, 'latin1'), { file: `${name}.lua` });
    const prefetch = compiled.ok ? Number(readModuleInfo(new WebAssembly.Module(compiled.wasm as Uint8Array<ArrayBuffer>)).options.prefetch ?? 0) : 0;
    const wasmBaseline = await baselineModule(name, prefetch);
    for (const [k, set] of sets.entries()) {
      const runners: Runner[] = [
        ['luapf-wasm', () => loadEngine({ path, engine: 'wasm', limits: { memoryBytes } })],
        ['hand-wasm', async () => new WasmFilter(wasmBaseline, { memoryBytes })],
        ['hand-ts', async () => new CheckFilter(TS_BASELINES[name])],
      ];
      if (o.interpreter) runners.push(['luapf-lua', () => loadEngine({ path, engine: 'lua', limits: { memoryBytes } })]);
      cells.push(await measureCell(o, name, set, runners, () => measurePeers(o, peers, name, files[k]!.path)));
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
    'Mpps, median of samples: luapf compiled (hand-written Wasm, TypeScript, luapf interpreted) [libpcap / best pflua, same run]; x: compiled / hand-written Wasm, ÷: compiled / best pflua',
    ['filter', ...captures].join(' | '),
  ];
  for (const filter of [...new Set(cells.map((c) => c.filter))]) {
    const row = [filter];
    for (const capture of captures) {
      const c = cells.find((x) => x.filter === filter && x.capture === capture);
      if (!c) { row.push('-'); continue; }
      const r = c.results;
      const pflua = Math.max(0, ...PFLUA_ENGINES.map((e) => c.peers[e]?.medianMpps ?? 0));
      const ref = c.peers.libpcap || pflua > 0
        ? ` [${c.peers.libpcap ? c.peers.libpcap.medianMpps.toFixed(1) : '-'} / ${pflua > 0 ? pflua.toFixed(1) : '-'}]${c.ratios['luapf-wasm/pflua'] !== undefined ? ` ÷${c.ratios['luapf-wasm/pflua'].toFixed(2)}` : ''}`
        : '';
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
