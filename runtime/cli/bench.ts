// `luapf bench`: every filter on every engine over every capture, in one
// process, with accept counts checked equal across engines. Captures are
// held in memory (columnar index: no object per packet); with no capture,
// built-in synthetic traffic is used so that it works on a fresh clone.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { benchFilter, loadPacketSet, memoryFor, packetSetFromRecords, type BenchResult, type PacketSet } from '../bench/measure.js';
import { benchWorkers, compileAside, scalingOf, type Scaling, type WorkerFilterSpec } from '../bench/workers.js';
import { EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK } from './exit-codes.js';
import { describeLoadError } from './run.js';
import type { EngineName } from '../engine/filter.js';
import type { Layer } from '../capture/link.js';
import { loadEngine } from '../engine/load.js';
import { isWasmModule } from '../engine/wasm.js';
import { syntheticTraffic } from '../bench/traffic.js';
import { LinkTypeError } from '../capture/link.js';

export interface BenchCommandOptions {
  engine: string;
  samples: number;
  seconds: number;
  /** seconds of warm-up per measurement (default 0.5) */
  warmup?: number;
  /** also measure with this many worker threads (and with one, for the scaling) */
  workers?: number;
  json?: boolean;
  layer: string;
  quiet?: boolean;
}

interface FilterReport {
  filter: string;
  results: BenchResult[];
  /** engines that could not run this filter, with why */
  skipped: { engine: EngineName; reason: string }[];
  /** accept counts differ between engines on these captures */
  disagree: string[];
  /** workers=N Mpps / workers=1 Mpps, per engine and capture (runtime/bench/workers.ts says how it is measured) */
  scaling: Scaling[];
}

const isFilterFile = (path: string) => /\.(lua|wasm)$/i.test(path);

/** A progress bar on standard error, redrawn at most every 100 ms. */
class ProgressBar {
  private done = 0;
  private last = 0;
  private label = '';
  constructor(private readonly total: number, private readonly enabled: boolean) {}
  step(label?: string): void {
    if (label !== undefined) this.label = label;
    else this.done++;
    this.draw(label !== undefined);
  }
  private draw(force: boolean): void {
    if (!this.enabled) return;
    const t = Date.now();
    if (!force && t - this.last < 100) return;
    this.last = t;
    const width = 24;
    const filled = Math.min(width, Math.round((this.done / Math.max(1, this.total)) * width));
    const cols = process.stderr.columns ?? 100;
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${this.label}`;
    process.stderr.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
  }
  clear(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}

export async function benchCommand(inputs: string[], opts: BenchCommandOptions): Promise<number> {
  const filters = inputs.filter(isFilterFile);
  const captures = inputs.filter((p) => !isFilterFile(p));
  const layer = Number(opts.layer) as Layer;
  const workers = opts.workers ?? 0;

  const sets: PacketSet[] = [];
  if (captures.length === 0) {
    sets.push(packetSetFromRecords('synthetic-mix (built in)', syntheticTraffic(), layer));
  }
  for (const path of captures) {
    try {
      sets.push(loadPacketSet(path, layer));
    } catch (e) {
      // the library's LinkTypeError advises the layer option; here it is a flag, and the file is named
      const message = e instanceof LinkTypeError ? `${path}: ${e.detail}; use --layer 2 to filter whole frames` : (e as Error).message;
      process.stderr.write(`luapf: ${message}\n`);
      return EXIT_BAD_INPUT;
    }
  }

  const engines: EngineName[] = opts.engine === 'all' ? ['wasm', 'lua'] : [opts.engine as EngineName];
  const runsPerCell = 1 + (workers > 0 ? 1 : 0);
  const bar = new ProgressBar(filters.length * engines.length * sets.length * runsPerCell * opts.samples, !opts.quiet && !opts.json && process.stderr.isTTY === true);
  const bench = { samples: opts.samples, sampleSeconds: opts.seconds, warmupSeconds: opts.warmup ?? 0.5, onSample: () => bar.step() };
  const reports: FilterReport[] = [];
  let status = EXIT_OK;
  try {
    for (const path of filters) {
      const report: FilterReport = { filter: path, results: [], skipped: [], disagree: [], scaling: [] };
      reports.push(report);
      let source: Uint8Array;
      try {
        source = readFileSync(path);
      } catch (e) {
        process.stderr.write(`luapf: ${describeLoadError(e) ?? (e as Error).message}\n`);
        return EXIT_BAD_INPUT;
      }
      // compiled aside, in a worker thread: binaryen never enters this isolate (bench/workers.ts)
      const compiled = engines.includes('wasm') && !isWasmModule(source) ? await compileAside(source, path) : undefined;
      for (const engine of engines) {
        for (const set of sets) {
          let filter;
          const spec: WorkerFilterSpec = { source, name: path, engine, limits: { memoryBytes: memoryFor(set) }, compiled };
          try {
            // A fresh instance per capture: state from one capture must not leak into the next.
            filter = await loadEngine(spec);
          } catch (e) {
            const reason = describeLoadError(e);
            if (reason === undefined) throw e;
            if (engines.length === 1 || engine === 'lua') {
              bar.clear();
              process.stderr.write(`luapf: ${reason}\n`);
              return EXIT_BAD_INPUT;
            }
            report.skipped.push({ engine, reason: reason.replace(/\s*\n\s*/g, '; ') });
            break;
          }
          bar.step(`${basename(path)} [${engine}] ${set.name}`);
          try {
            report.results.push(benchFilter(filter, set, bench));
          } finally {
            filter.close();
          }
          if (workers > 0) {
            // one pool of threads measures one worker and N, samples alternating (bench/workers.ts)
            const counts = workers > 1 ? [1, workers] : [1];
            bar.step(`${basename(path)} [${engine}] ${set.name} × ${counts.join(' and ')} worker${workers > 1 ? 's' : ''}`);
            const [one, many] = await benchWorkers(spec, set, counts, bench);
            report.results.push(one);
            if (many) {
              report.results.push(many);
              report.scaling.push(scalingOf(one, many, engine));
            }
          }
        }
      }
      for (const set of sets) {
        const counts = new Set(report.results.filter((r) => r.capture === set.name).map((r) => r.accepted));
        if (counts.size > 1) {
          bar.clear();
          process.stderr.write(`luapf: engines disagree on ${path} over ${set.name}: accept counts ${[...counts].join(' vs ')}\n`);
          report.disagree.push(set.name);
          status = EXIT_DISAGREE;
        }
      }
    }
  } finally {
    bar.clear();
  }

  if (opts.json) {
    const doc = { samples: opts.samples, sampleSeconds: opts.seconds, layer, node: process.version, filters: reports };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(reports.map(formatReport).join('\n'));
    process.stdout.write('Mpps: median of the samples (±%: half their range); Gbit/s offered: whole packets handed to the filter per second,\n' +
      'the line rate it keeps up with, however few bytes of each it reads\n');
  }
  return status;
}

function formatReport(report: FilterReport): string {
  const rows: string[][] = [['engine', 'capture', 'packets', 'accepted', 'Mpps', '±%', 'min–max', 'ns/pkt', 'Gbit/s offered']];
  for (const r of report.results) {
    rows.push([
      r.workers !== undefined ? `${r.engine} ×${r.workers}w` : r.engine, r.capture, String(r.packets), String(r.accepted),
      r.medianMpps.toFixed(2), r.spreadPct.toFixed(1), `${r.minMpps.toFixed(2)}–${r.maxMpps.toFixed(2)}`,
      r.nsPerPacket.toFixed(1), r.offeredGbps.toFixed(3),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = [`${report.filter}`];
  for (const r of rows) lines.push(`  ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`);
  for (const s of report.skipped) lines.push(`  ${s.engine}: not run: ${s.reason}`);
  // Compiled vs interpreted, same capture, same run: the ratio the noise leaves alone.
  for (const capture of new Set(report.results.map((r) => r.capture))) {
    const wasm = report.results.find((r) => r.capture === capture && r.engine === 'wasm' && r.workers === undefined);
    const lua = report.results.find((r) => r.capture === capture && r.engine === 'lua' && r.workers === undefined);
    if (wasm && lua) lines.push(`  wasm / lua on ${capture}: ${(wasm.medianMpps / lua.medianMpps).toFixed(1)}×`);
  }
  for (const s of report.scaling) {
    const lo = Math.min(...s.pairRatios), hi = Math.max(...s.pairRatios);
    lines.push(`  ${s.engine} on ${s.capture}: ${s.workers} workers = ${s.ratio.toFixed(2)}× one worker ` +
      `(sample pairs ${lo.toFixed(2)}–${hi.toFixed(2)}×; ${s.cores} cores; each worker filters the whole capture)`);
  }
  const unsettled = report.results.filter((r) => r.warmup && !r.warmup.settled);
  for (const r of unsettled) {
    lines.push(`  note: ${r.engine}${r.workers !== undefined ? ` ×${r.workers}w` : ''} on ${r.capture}: the rate had not settled after ` +
      `${r.warmup!.seconds.toFixed(1)} s of warm-up; its first samples may be slow`);
  }
  for (const c of report.disagree) lines.push(`  ENGINES DISAGREE on ${c}: see accepted`);
  return `${lines.join('\n')}\n`;
}
