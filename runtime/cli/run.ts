// `luapf run`: load the filter, run it over the captures, report.
import { createWriteStream, type WriteStream } from 'node:fs';
import { createCaptureWriter, writerFormatFor, type CaptureWriter } from '../capture/write.js';
import type { CaptureInfo, CaptureRecord } from '../capture/read.js';
import { ScriptError } from '../errors.js';
import { EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK } from './exit-codes.js';
import { EngineUnavailableError, loadEngine, type EngineChoice, type LoadedFilter } from '../engine/load.js';
import { runCaptures, type RunSummary } from '../run/run.js';
import type { Layer } from '../capture/link.js';
import type { OnError } from '../run/verdicts.js';
import { VerifyingFilter } from '../engine/verify.js';

export interface RunCommandOptions {
  write?: string;
  json?: boolean;
  verdicts?: string;
  layer: string;
  onError: OnError;
  fuel: number;
  engine: EngineChoice;
  quiet?: boolean;
  verify?: boolean;
}

/** --verify: the compiled filter decides, the interpreter checks it on every packet. */
async function loadVerifyingFilter(path: string, fuel: number): Promise<LoadedFilter & VerifyingFilter> {
  const compiled = await loadEngine({ path, engine: 'wasm', limits: { fuel } });
  const interpreted = await loadEngine({ path, engine: 'lua', limits: { fuel } });
  return Object.assign(new VerifyingFilter(compiled, interpreted), { reasons: [] });
}

/** Where the run's n-th packet (0-based) came from: its capture and number within it. */
function locate(summary: RunSummary, packet: number): string {
  for (const c of summary.captures) {
    if (packet < c.packets) return `${c.name}#${packet + 1}`;
    packet -= c.packets;
  }
  return `#${packet + 1}`;
}

/** Formats load failures the way compilers do: FILE:LINE:COL: message. */
export function describeLoadError(e: unknown): string | undefined {
  if (e instanceof ScriptError || e instanceof EngineUnavailableError) return e.message;
  if (e instanceof Error) {
    if (e.name === 'ModuleFormatError' || e.name === 'ModuleInitError') return e.message;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') return e.message;
  }
  return undefined;
}

export async function runCommand(filterPath: string, captures: string[], opts: RunCommandOptions): Promise<number> {
  let filter: LoadedFilter;
  try {
    filter = opts.verify
      ? await loadVerifyingFilter(filterPath, opts.fuel)
      : await loadEngine({ path: filterPath, engine: opts.engine, limits: { fuel: opts.fuel } });
  } catch (e) {
    const message = describeLoadError(e);
    if (message === undefined) throw e;
    process.stderr.write(`luapf: ${message}\n`);
    return EXIT_BAD_INPUT;
  }

  const verdictFile: WriteStream | undefined = opts.verdicts
    ? (opts.verdicts === '-' ? (process.stdout as unknown as WriteStream) : createWriteStream(opts.verdicts))
    : undefined;
  // The output takes the first capture's format and link type: pcap, or
  // pcapng when that capture is pcapng (it may mix link types).
  let writer: CaptureWriter | undefined;
  const openWriter = (info: CaptureInfo): void => {
    writer ??= createCaptureWriter(opts.write!, info.linkType, { format: writerFormatFor(info), snaplen: info.snaplen || undefined });
  };
  const toWriter = (record: CaptureRecord): void => writer!.write(record);
  const progress = !opts.quiet && process.stderr.isTTY ? new Progress() : undefined;

  let summary: RunSummary;
  try {
    summary = await runCaptures(filter, captures, {
      layer: Number(opts.layer) as Layer,
      onError: opts.onError,
      onAccept: opts.write ? toWriter : undefined,
      onCaptureStart: opts.write ? (_, info) => openWriter(info) : undefined,
      drain: opts.write ? () => writer?.ready() ?? Promise.resolve() : undefined,
      onVerdict: verdictFile
        ? (capture, n, verdict, message) => {
          verdictFile.write(`${capture}\t${n}\t${verdict}${message ? `\t${message.replace(/[\t\n]/g, ' ')}` : ''}\n`);
        }
        : undefined,
      onProgress: progress ? (capture, n) => progress.show(capture, n) : undefined,
    });
  } finally {
    progress?.clear();
    filter.close();
    if (opts.write) {
      // A run whose captures were all unreadable still leaves a valid, empty capture.
      writer ??= createCaptureWriter(opts.write, 1);
      await writer.close();
    }
    if (verdictFile && verdictFile !== (process.stdout as unknown)) {
      await new Promise<void>((resolve) => verdictFile.end(resolve));
    }
  }

  const disagreements = filter instanceof VerifyingFilter
    ? filter.disagreements.map((d) => ({ packet: locate(summary, d.packet), wasm: d.wasm, lua: d.lua }))
    : undefined;
  const out = opts.write === '-' ? process.stderr : process.stdout;
  if (opts.json) {
    out.write(`${JSON.stringify({ filter: filterPath, reasons: filter.reasons, ...summary, disagreements }, null, 2)}\n`);
  } else {
    out.write(formatSummary(filterPath, filter, summary));
    if (disagreements) {
      out.write(`verify: ${disagreements.length} packets on which the compiled and interpreted engines disagree\n`);
      for (const d of disagreements.slice(0, 20)) out.write(`  ${d.packet}: wasm ${d.wasm}, lua ${d.lua}\n`);
    }
  }
  let status = disagreements && disagreements.length > 0 ? EXIT_DISAGREE : EXIT_OK;
  for (const c of summary.captures) {
    if (c.readError) {
      process.stderr.write(`luapf: ${c.readError.message} (${c.packets} packets read before it were filtered)\n`);
      status = EXIT_BAD_INPUT;
    }
  }
  return status;
}

function formatSummary(filterPath: string, filter: LoadedFilter, summary: RunSummary): string {
  const lines: string[] = [];
  lines.push(`filter ${filterPath}: engine ${filter instanceof VerifyingFilter ? 'wasm, verified against lua' : filter.engine}`);
  for (const reason of filter.reasons) lines.push(`  not compiled: ${reason}`);
  const rows: string[][] = [['capture', 'packets', 'accepted', 'rejected', 'errors']];
  const row = (name: string, c: { packets: number; accepted: number; rejected: number; errors: number }) =>
    rows.push([name, String(c.packets), String(c.accepted), String(c.rejected), String(c.errors)]);
  for (const c of summary.captures) row(c.name, c);
  if (summary.captures.length > 1) row('total', summary.total);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) {
    lines.push(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  }
  if (summary.firstErrors.length > 0) {
    lines.push(`first filter errors (${summary.total.errors} in all):`);
    for (const e of summary.firstErrors) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A one-line packet counter on a terminal, redrawn at most every 100 ms. */
class Progress {
  private last = 0;
  show(capture: string, packets: number): void {
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    process.stderr.write(`\r\x1b[K${capture}: ${packets} packets`);
  }
  clear(): void {
    if (this.last > 0) process.stderr.write('\r\x1b[K');
  }
}
