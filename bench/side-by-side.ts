// `npm run bench:peers`: luapf against libpcap and pflua, cell by cell, in
// one run. Speeds on this kind of machine move 2-7x between machines and
// runs, so a luapf figure means something only beside the peers' figures
// taken minutes apart on the same captures: for every (capture, filter) cell,
// libpcap's bpf_filter, pflua's three pipelines and `luapf bench --engine
// wasm` run one after another, each pinned to the same CPU, the order
// rotated from round to round. Prints the table and the ratios, writes JSON
// and an SVG chart (bench/chart.ts) to bench-results/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { CAPTURE_NAMES, capturePaths, REPO_ROOT, SHARED } from './captures.js';
import { peersChart } from './chart.js';
import {
  EXPRESSIONS, findBpfBench, findPflua, libpcapCount, measureLibpcap, measurePflua, pinned, PFLUA_ENGINES, withVlanStripped,
  type PeerCell, type PeerConfig, type PeerResult, type Timing,
} from './peers.js';
import { median } from '../runtime/bench/measure.js';

interface Options {
  filters: string[];
  captures: string[];
  scale: number;
  capturesDir?: string;
  rounds: number;
  timing: Timing;
  cpu?: number;
  out: string;
  pflua?: string;
  dynasm?: string;
  bpfBench?: string;
}

const USAGE = `usage: npm run bench:peers -- [--pflua DIR --dynasm DIR] [--bpf-bench FILE] [--rounds N]
       [--samples N] [--seconds S] [--filters a,b] [--captures a,b] [--scale F] [--captures-dir DIR] [--cpu N] [--out FILE]
  --pflua DIR, --dynasm DIR  checkouts set up as ../shared/bench/peers/README.md says (or LUAPF_PFLUA, LUAPF_DYNASM);
                             without them only libpcap runs beside luapf
  --bpf-bench FILE           libpcap's timing loop (default: built from ../shared/bench/peers/bpf_bench.c into .cache/peers)
  --rounds N                 rounds over every cell, engine order rotated each round (default 2); medians over rounds
  --samples N, --seconds S   timed samples per engine and cell, seconds each (default 3, 1)
  --scale F                  size of the generated captures (default 1: pflua-bench's, about 840 MB)
  --captures-dir DIR         where the generated captures are (default .cache/bench-scale-F; missing ones are generated)
  --cpu N                    the CPU every engine is pinned to with taskset (default 1; -1: not pinned)
  --out FILE                 JSON (default bench-results/peers.json); the SVG chart is written beside it
`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    filters: Object.keys(EXPRESSIONS), captures: CAPTURE_NAMES, scale: 1, rounds: 2, timing: { samples: 3, seconds: 1 },
    cpu: cpus().length > 1 ? 1 : undefined, out: join(REPO_ROOT, 'bench-results', 'peers.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const positive = (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`${a} must be positive, not ${v}`);
      return n;
    };
    if (a === '--pflua') o.pflua = next();
    else if (a === '--dynasm') o.dynasm = next();
    else if (a === '--bpf-bench') o.bpfBench = next();
    else if (a === '--rounds') o.rounds = Math.ceil(positive(next()));
    else if (a === '--samples') o.timing.samples = Math.ceil(positive(next()));
    else if (a === '--seconds') o.timing.seconds = positive(next());
    else if (a === '--filters') o.filters = next().split(',');
    else if (a === '--captures') o.captures = next().split(',');
    else if (a === '--scale') o.scale = positive(next());
    else if (a === '--captures-dir') o.capturesDir = next();
    else if (a === '--cpu') { const c = Number(next()); o.cpu = c < 0 ? undefined : c; }
    else if (a === '--out') o.out = next();
    else if (a === '--help' || a === '-h') { process.stdout.write(USAGE); process.exit(0); }
    else throw new Error(`unknown option ${a}`);
  }
  const unknown = o.filters.filter((f) => !(f in EXPRESSIONS));
  if (unknown.length > 0) throw new Error(`unknown filter ${unknown.join(', ')} (known: ${Object.keys(EXPRESSIONS).join(', ')})`);
  return o;
}

/** `luapf bench --engine wasm` on one cell, as a user runs it (a child process, pinned like the peers). */
function measureLuapf(cpu: number | undefined, filter: string, capture: string, t: Timing): PeerResult {
  const cli = join(REPO_ROOT, 'dist', 'runtime', 'cli', 'main.js');
  const [cmd, args] = pinned(cpu, process.execPath, [cli, 'bench', join(SHARED, 'bench', 'filters', `${filter}.lua`), capture,
    '--engine', 'wasm', '--samples', String(t.samples), '--seconds', String(t.seconds), '--json', '-q']);
  const report = JSON.parse(execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 }));
  const r = report.filters[0].results[0];
  return { engine: 'luapf', packets: r.packets, accepted: r.accepted, medianMpps: r.medianMpps, minMpps: r.minMpps, maxMpps: r.maxMpps };
}

function countNotes(config: PeerConfig, cell: PeerCell, capture: string): string[] {
  const lib = cell.engines.libpcap?.accepted;
  if (lib === undefined) return [];
  const notes: string[] = [];
  for (const [engine, r] of Object.entries(cell.engines)) {
    if (engine === 'libpcap' || r.accepted === lib) continue;
    let why = '';
    if (engine === 'luapf') {
      const stripped = libpcapCount(config, capture, withVlanStripped(cell.expression));
      why = stripped === r.accepted
        ? `: VLAN-tagged frames (luapf strips the tags; libpcap's "${withVlanStripped(cell.expression)}" also gives ${stripped})`
        : ` (libpcap with VLAN tags stripped gives ${stripped}: unexplained)`;
    }
    notes.push(`${engine} accepts ${r.accepted}, libpcap ${lib}${why}`);
  }
  return notes;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const config: PeerConfig = { bpfBench: findBpfBench(o.bpfBench), pflua: findPflua(o.pflua, o.dynasm), cpu: o.cpu };
  if (!config.pflua) process.stderr.write('pflua not measured: give --pflua DIR --dynasm DIR (../shared/bench/peers/README.md)\n');
  const engines = [...(config.bpfBench ? ['libpcap'] : []), ...(config.pflua ? PFLUA_ENGINES : []), 'luapf'];
  const captures = capturePaths(o.captures, o.scale, o.capturesDir);
  const runs = new Map<string, PeerResult[]>(); // `${filter}\t${capture}\t${engine}` -> one result per round
  const key = (f: string, c: string, e: string) => `${f}\t${c}\t${e}`;
  for (let round = 0; round < o.rounds; round++) {
    for (const cap of captures) {
      for (const [k, filter] of o.filters.entries()) {
        const expression = EXPRESSIONS[filter]!;
        // rotate the order so that no engine always runs first (or right after another's cache footprint)
        const order = engines.map((_, i) => engines[(i + round + k) % engines.length]!);
        const line: string[] = [];
        for (const engine of order) {
          const r = engine === 'libpcap' ? measureLibpcap(config, cap.path, [expression], o.timing)[0]!
            : engine === 'luapf' ? measureLuapf(o.cpu, filter, cap.path, o.timing)
              : measurePflua(config, engine, cap.path, expression, o.timing);
          const list = runs.get(key(filter, cap.name, engine)) ?? [];
          list.push(r);
          runs.set(key(filter, cap.name, engine), list);
          line.push(`${engine} ${r.medianMpps.toFixed(1)}`);
        }
        process.stderr.write(`round ${round + 1}/${o.rounds} ${filter} × ${cap.name}: ${line.join(', ')} Mpps\n`);
      }
    }
  }
  const cells: PeerCell[] = [];
  for (const cap of captures) {
    for (const filter of o.filters) {
      const cell: PeerCell = { filter, expression: EXPRESSIONS[filter]!, capture: cap.name, packets: 0, engines: {}, ratios: {}, countNotes: [] };
      for (const engine of engines) {
        const list = runs.get(key(filter, cap.name, engine))!;
        const rounds = list.map((r) => r.medianMpps);
        cell.engines[engine] = { rounds, medianMpps: median(rounds), accepted: list[0]!.accepted };
        cell.packets = list[0]!.packets;
      }
      const pflua = PFLUA_ENGINES.filter((e) => cell.engines[e]);
      if (pflua.length > 0) {
        cell.bestPflua = pflua.reduce((a, b) => (cell.engines[b]!.medianMpps > cell.engines[a]!.medianMpps ? b : a));
        cell.ratios.pflua = cell.engines.luapf!.medianMpps / cell.engines[cell.bestPflua]!.medianMpps;
      }
      if (cell.engines.libpcap) cell.ratios.libpcap = cell.engines.luapf!.medianMpps / cell.engines.libpcap.medianMpps;
      cell.countNotes = countNotes(config, cell, cap.path);
      cells.push(cell);
    }
  }
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpuModel, options: o, engines, cells }, null, 2)}\n`);
  const svg = o.out.replace(/\.json$/, '') + '.svg';
  writeFileSync(svg, peersChart(cells, engines, `luapf vs peers, same run (${new Date().toISOString().slice(0, 16)}Z, ${cpuModel}, median of ${o.rounds} rounds)`));
  process.stdout.write(formatTable(cells, o.captures, o.filters));
  process.stdout.write(`\nJSON: ${o.out}\nchart: ${svg}\n`);
}

function formatTable(cells: PeerCell[], captures: string[], filters: string[]): string {
  const out = ['Mpps (median over rounds): luapf / best pflua / libpcap (luapf÷pflua, luapf÷libpcap)', `| filter | ${captures.join(' | ')} |`,
    `|---|${captures.map(() => '---|').join('')}`];
  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(x < 10 ? 1 : 0));
  for (const filter of filters) {
    const row = captures.map((capture) => {
      const c = cells.find((x) => x.filter === filter && x.capture === capture)!;
      const e = c.engines;
      const ratio = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));
      return `${fmt(e.luapf?.medianMpps)} / ${fmt(c.bestPflua ? e[c.bestPflua]!.medianMpps : undefined)} / ${fmt(e.libpcap?.medianMpps)} (${ratio(c.ratios.pflua)}, ${ratio(c.ratios.libpcap)})`;
    });
    out.push(`| ${filter} | ${row.join(' | ')} |`);
  }
  const atPflua = cells.filter((c) => c.ratios.pflua !== undefined);
  if (atPflua.length > 0) out.push(`at or above the best pflua pipeline: ${atPflua.filter((c) => c.ratios.pflua! >= 1).length} of ${atPflua.length} cells`);
  const atPcap = cells.filter((c) => c.ratios.libpcap !== undefined);
  if (atPcap.length > 0) out.push(`at least 2× libpcap: ${atPcap.filter((c) => c.ratios.libpcap! >= 2).length} of ${atPcap.length} cells`);
  const notes = cells.flatMap((c) => c.countNotes.map((n) => `${c.filter} × ${c.capture}: ${n}`));
  if (notes.length > 0) out.push('accept counts differing from libpcap:', ...notes.map((n) => `  ${n}`));
  return `${out.join('\n')}\n`;
}

main().catch((e) => {
  process.stderr.write(`bench:peers: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
