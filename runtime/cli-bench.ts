// `luapf bench`: every filter on every engine over every capture, in one
// process, with accept counts checked equal across engines.
import { readCaptureFile } from './capture.js';
import { benchFilter, packetSetFromRecords, type BenchResult, type PacketSet } from './bench.js';
import { EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK } from './exit-codes.js';
import { describeLoadError } from './cli-run.js';
import type { EngineName } from './filter.js';
import { loadFilter } from './load.js';
import { syntheticTraffic } from './traffic.js';

export interface BenchCommandOptions {
  engine: string;
  samples: number;
  seconds: number;
  json?: boolean;
  layer: string;
  quiet?: boolean;
}

interface FilterReport {
  filter: string;
  results: BenchResult[];
  /** engines that could not run this filter, with why */
  skipped: { engine: EngineName; reason: string }[];
}

const isFilterFile = (path: string) => /\.(lua|wasm)$/i.test(path);

export async function benchCommand(inputs: string[], opts: BenchCommandOptions): Promise<number> {
  const filters = inputs.filter(isFilterFile);
  const captures = inputs.filter((p) => !isFilterFile(p));
  const layer = Number(opts.layer) as 2 | 3;
  const progress = !opts.quiet && process.stderr.isTTY;
  const log = (s: string) => { if (progress) process.stderr.write(s); };

  const sets: PacketSet[] = [];
  if (captures.length === 0) {
    sets.push(packetSetFromRecords('synthetic-mix (built in)', syntheticTraffic(), layer));
  }
  for (const path of captures) {
    try {
      sets.push(packetSetFromRecords(path, readCaptureFile(path).records, layer));
    } catch (e) {
      process.stderr.write(`luapf: ${(e as Error).message}\n`);
      return EXIT_BAD_INPUT;
    }
  }

  const engines: EngineName[] = opts.engine === 'all' ? ['wasm', 'lua'] : [opts.engine as EngineName];
  const reports: FilterReport[] = [];
  let status = EXIT_OK;
  for (const path of filters) {
    const report: FilterReport = { filter: path, results: [], skipped: [] };
    reports.push(report);
    for (const engine of engines) {
      for (const set of sets) {
        let filter;
        try {
          // A fresh instance per capture: state from one capture must not leak into the next.
          filter = await loadFilter({ path, engine, limits: { memoryBytes: set.totalBytes + set.count * 20 + (64 << 20) } });
        } catch (e) {
          const reason = describeLoadError(e);
          if (reason === undefined) throw e;
          if (engines.length === 1 || engine === 'lua') {
            process.stderr.write(`luapf: ${reason}\n`);
            return EXIT_BAD_INPUT;
          }
          report.skipped.push({ engine, reason: reason.replace(/\s*\n\s*/g, '; ') });
          break;
        }
        log(`${path} [${engine}] ${set.name}: measuring ${opts.samples} × ${opts.seconds}s ...`);
        try {
          report.results.push(benchFilter(filter, set, { samples: opts.samples, sampleSeconds: opts.seconds }));
        } finally {
          filter.close();
          log('\r\x1b[K');
        }
      }
    }
    for (const set of sets) {
      const counts = new Set(report.results.filter((r) => r.capture === set.name).map((r) => r.accepted));
      if (counts.size > 1) {
        process.stderr.write(`luapf: engines disagree on ${path} over ${set.name}: accept counts ${[...counts].join(' vs ')}\n`);
        status = EXIT_DISAGREE;
      }
    }
  }

  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ samples: opts.samples, sampleSeconds: opts.seconds, filters: reports }, null, 2)}\n`);
  } else {
    process.stdout.write(formatReports(reports));
  }
  return status;
}

function formatReports(reports: FilterReport[]): string {
  const rows: string[][] = [['filter', 'engine', 'capture', 'packets', 'accepted', 'Mpps', 'spread', 'ns/pkt', 'Gbit/s']];
  for (const report of reports) {
    for (const r of report.results) {
      rows.push([
        report.filter, r.engine, r.capture, String(r.packets), String(r.accepted),
        r.medianMpps.toFixed(2), `${r.minMpps.toFixed(2)}–${r.maxMpps.toFixed(2)}`,
        r.nsPerPacket.toFixed(1), r.gbps.toFixed(2),
      ]);
    }
    for (const s of report.skipped) rows.push([report.filter, s.engine, `(not run: ${s.reason})`, '', '', '', '', '', '']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.filter((r) => r[3] !== '').map((r) => r[i].length)));
  return `${rows.map((r) => (r[3] === ''
    ? `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2]}`
    : r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))).join('\n')}\n`;
}
