// What `luapf run` prints: the summary as a table or as one JSON document
// (errors and reasons as objects with their positions, time and rate per
// capture), and the --print line of an accepted packet. Pure formatting:
// runtime/cli/run.ts decides where each goes.
import type { CaptureRecord } from '../capture/read.js';
import { splitErrorMessage } from '../engine/filter.js';
import type { CaptureSummary, RunSummary } from '../run/run.js';
import type { Counts } from '../run/verdicts.js';
import { describeCounts, type LunatikCounts } from '../lunatik/run-outputs.js';

/** A capture's counts with how long it took. */
export interface TimedCounts extends Counts {
  seconds: number;
}

export interface RunReport {
  /** the filter's path, or "-e" */
  filter: string;
  /** the engine, as the table's first line shows it */
  engine: string;
  reasons: readonly string[];
  summary: RunSummary;
  /** seconds per capture, in the order of summary.captures */
  seconds: number[];
  /** seconds of the whole run */
  totalSeconds: number;
  disagreements?: { packet: string; wasm: string; lua: string }[];
  /** maps positions in messages back to the user's text (for -e) */
  fix?: (message: string) => string;
  /** a Lunatik script's counts by verdict name, per capture (undefined: no packet read) and in all */
  lunatik?: { captures: (LunatikCounts | undefined)[]; total: LunatikCounts; xdpOnly: boolean };
}

/** Packets per second, rounded; 0 when no time was measured. */
export function rate(packets: number, seconds: number): number {
  return seconds > 0 ? Math.round(packets / seconds) : 0;
}

/** 1234 → "1.23k", 1234567 → "1.23M": figures for people. */
export function compact(n: number): string {
  if (n < 1000) return String(Math.round(n));
  const units = ['k', 'M', 'G', 'T'];
  let i = -1;
  while (n >= 999.5 && i < units.length - 1) { n /= 1000; i++; }
  return `${n >= 99.5 ? n.toFixed(0) : n >= 9.95 ? n.toFixed(1) : n.toFixed(2)}${units[i]}`;
}

const round6 = (s: number): number => Math.round(s * 1e6) / 1e6;

/** A compiler reason "LINE:COL: message" as an object naming the script. */
export function reasonObject(reason: string, file: string): { file: string; line?: number; column?: number; message: string } {
  const m = /^(\d+):(\d+): ([\s\S]*)$/.exec(reason);
  return m ? { file, line: Number(m[1]), column: Number(m[2]), message: m[3] } : { file, message: reason };
}

/** One JSON document: counts, time and rate per capture and in all, errors and reasons as objects. */
export function jsonReport(r: RunReport): string {
  const fix = r.fix ?? ((s: string) => s);
  // the rate from the seconds as printed, so the document agrees with itself
  const timed = (c: Counts, seconds: number) => ({
    packets: c.packets, accepted: c.accepted, rejected: c.rejected, errors: c.errors,
    seconds: round6(seconds), packetsPerSecond: rate(c.packets, round6(seconds)),
  });
  const captures = r.summary.captures.map((c: CaptureSummary, i) => ({
    name: c.name, ...timed(c, r.seconds[i] ?? 0), ...(c.readError ? { readError: c.readError } : {}),
    ...(r.lunatik ? { lunatik: r.lunatik.captures[i] ?? { verdicts: {}, rewritten: 0, injected: 0, printed: 0 } } : {}),
  }));
  const doc = {
    filter: r.filter,
    engine: r.summary.engine,
    reasons: r.reasons.map((reason) => reasonObject(fix(reason), r.filter)),
    captures,
    total: timed(r.summary.total, r.totalSeconds),
    ...(r.lunatik ? { lunatik: r.lunatik.total } : {}),
    ...(r.summary.stoppedAfter !== undefined ? { stoppedAfter: r.summary.stoppedAfter } : {}),
    firstErrors: r.summary.firstErrors.map((e) => {
      const at = splitErrorMessage(fix(e.message));
      return { capture: e.capture, packet: e.packet, file: at.file, line: at.line, column: at.column, message: at.detail };
    }),
    ...(r.disagreements ? { disagreements: r.disagreements } : {}),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The summary as a table, then the first errors. */
export function textReport(r: RunReport): string {
  const fix = r.fix ?? ((s: string) => s);
  const lines: string[] = [];
  lines.push(`filter ${r.filter}: engine ${r.engine}`);
  for (const reason of r.reasons) lines.push(`  not compiled: ${fix(reason)}`);
  const rows: string[][] = [['capture', 'packets', 'accepted', 'rejected', 'errors', 'seconds', 'packets/s']];
  const row = (name: string, c: Counts, seconds: number) => rows.push([
    name, String(c.packets), String(c.accepted), String(c.rejected), String(c.errors),
    seconds.toFixed(3), compact(rate(c.packets, seconds)),
  ]);
  r.summary.captures.forEach((c, i) => row(c.name, c, r.seconds[i] ?? 0));
  if (r.summary.captures.length > 1) row('total', r.summary.total, r.totalSeconds);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((cells) => cells[i].length)));
  for (const cells of rows) {
    lines.push(cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  }
  if (r.lunatik) lines.push(describeCounts(r.lunatik.total, r.lunatik.xdpOnly));
  if (r.summary.stoppedAfter !== undefined) lines.push(`stopped after ${r.summary.stoppedAfter} packets (-c)`);
  if (r.summary.firstErrors.length > 0) {
    lines.push(`first filter errors (${r.summary.total.errors} in all):`);
    for (const e of r.summary.firstErrors) lines.push(`  ${e.capture}#${e.packet}: ${fix(e.message)}`);
  }
  if (r.disagreements) {
    lines.push(`verify: ${r.disagreements.length} packets on which the compiled and interpreted engines disagree`);
    for (const d of r.disagreements.slice(0, 20)) lines.push(`  ${d.packet}: wasm ${d.wasm}, lua ${d.lua}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One line per accepted packet, like tcpdump -q -tt --nano: where it is,
 * when (seconds since the epoch), its length on the wire (and what was
 * captured when less), and the verdict ("accept", or the error it passed with).
 */
export function printLine(record: CaptureRecord, capture: string, n: number, error?: string): string {
  const time = `${record.tsSec}.${String(record.tsNsec).padStart(9, '0')}`;
  const caplen = record.data.length < record.origLen ? ` caplen ${record.data.length}` : '';
  const verdict = error === undefined ? 'accept' : `accept on error: ${error.replace(/[\r\n]+/g, ' ')}`;
  return `${capture}#${n} ${time} length ${record.origLen}${caplen} ${verdict}\n`;
}
