// `luapf run`: check every input, load the filter, run it over the captures
// (runtime/run/run.ts), report. Everything that is the input's fault ends
// as one line naming the file (and byte offset) with exit 1; a fault in one
// capture still reports the counts of the others.
import type { WriteStream } from 'node:fs';
import { createCaptureWriter, type CaptureWriter, type WritableRecord } from '../capture/write.js';
import { CaptureError } from '../capture/read.js';
import { ScriptError } from '../errors.js';
import { EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { EngineUnavailableError, loadEngine, type EngineChoice, type LoadedFilter } from '../engine/load.js';
import { runCaptures, type RunSummary } from '../run/run.js';
import type { Layer } from '../capture/link.js';
import type { OnError } from '../run/verdicts.js';
import { VerifyingFilter } from '../engine/verify.js';
import {
  INLINE_NAME, RunInputError, checkOneLinkType, checkPlumbing, checkReadable, inlineScripts, openOutput,
  outputFormat, outputHeader, peekCaptures, shiftColumns, systemMessage, type CaptureInput,
} from './run-inputs.js';
import { jsonReport, printLine, textReport } from './run-output.js';
import { Progress, progressWanted } from './progress.js';
import { lunatikOption, type LunatikFlags } from '../lunatik/cli-options.js';
import { looksLunatik } from '../lunatik/detect.js';
import { LunatikRun } from '../lunatik/run-outputs.js';
import type { LunatikFilter } from '../lunatik/engine.js';

export interface RunCommandOptions extends LunatikFlags {
  write?: string;
  /** -F: the -w format (default: from the file's extension) */
  format?: 'pcap' | 'pcapng';
  json?: boolean;
  verdicts?: string;
  layer: string;
  /** default: drop, or pass for a Lunatik script */
  onError?: OnError;
  fuel: number;
  engine: EngineChoice;
  quiet?: boolean;
  verify?: boolean;
  /** -c: stop after this many packets in all */
  count?: number;
  /** -e: the script's text instead of a file */
  script?: string;
  /** -v: one line per accepted packet on stdout */
  print?: boolean;
}

/** A filter and how to map positions in its messages back to what the user wrote. */
interface Loaded {
  filter: LoadedFilter;
  fix: (message: string) => string;
}

/** --verify: the compiled filter decides, the interpreter checks it on every packet. */
async function loadVerifyingFilter(source: { path?: string; source?: string; name?: string }, fuel: number): Promise<LoadedFilter & VerifyingFilter> {
  const compiled = await loadEngine({ ...source, engine: 'wasm', limits: { fuel } });
  const interpreted = await loadEngine({ ...source, engine: 'lua', limits: { fuel } });
  return Object.assign(new VerifyingFilter(compiled, interpreted), { reasons: [] });
}

async function loadFilterFor(filterPath: string | undefined, opts: RunCommandOptions): Promise<Loaded> {
  const load = (source: { path?: string; source?: string; name?: string }) => (opts.verify
    ? loadVerifyingFilter(source, opts.fuel)
    : loadEngine({ ...source, engine: opts.engine, limits: { fuel: opts.fuel }, lunatik: lunatikOption(opts) }));
  if (opts.script === undefined) return { filter: await load({ path: filterPath }), fix: (m) => m };
  // -e: try each reading of the text; report the first reading's error when none loads.
  // a Lunatik script registers its hooks in its main chunk: never wrapped in filter()
  const candidates = opts.lunatik || looksLunatik(opts.script) ? [{ source: opts.script, shift: 0 }] : inlineScripts(opts.script);
  let first: unknown;
  for (const c of candidates) {
    try {
      return { filter: await load({ source: c.source, name: INLINE_NAME }), fix: (m) => shiftColumns(m, c.shift) };
    } catch (e) {
      if (!(e instanceof ScriptError && e.kind === 'syntax')) throw fixLoadError(e, c.shift, opts.script);
      first ??= fixLoadError(e, c.shift, opts.script);
    }
  }
  throw first;
}

/** A load error of -e TEXT with its position in TEXT: columns of line 1 shifted back, the wrapper's `end` as TEXT's end. */
function fixLoadError(e: unknown, shift: number, text: string): unknown {
  const lines = text.split('\n');
  if (e instanceof ScriptError && e.line !== undefined && e.line > lines.length) {
    return new ScriptError(e.kind, e.file, lines.length, lines[lines.length - 1].length + 1, e.detail);
  }
  if (e instanceof ScriptError && e.line === 1 && e.column !== undefined) {
    return new ScriptError(e.kind, e.file, e.line, Math.max(1, e.column - shift), e.detail);
  }
  if (e instanceof EngineUnavailableError) {
    // "-e cannot be compiled:\n  1:40: reason": each indented reason line shifted like the reasons
    const message = e.message.split('\n').map((l) => l.replace(/^(\s+)(.*)$/, (_, sp: string, r: string) => sp + shiftColumns(r, shift)));
    return new EngineUnavailableError(message.join('\n'), e.reasons.map((r) => shiftColumns(r, shift)));
  }
  return e;
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
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'EACCES') return `${err.path ?? ''}: ${systemMessage(e)}`;
  }
  return undefined;
}

/** Usage errors found once the options are parsed: exit 2 with one line and the hint. */
function usage(message: string): number {
  process.stderr.write(`luapf run: ${message}\nsee 'luapf help run'\n`);
  return EXIT_USAGE;
}

export async function runCommand(filterPath: string | undefined, captures: string[], opts: RunCommandOptions): Promise<number> {
  // stdout carries at most one stream of data; the summary then goes to stderr.
  const stdoutUsers = [opts.write === '-' && '-w -', opts.verdicts === '-' && '--verdicts -', opts.print && '--print'].filter(Boolean);
  if (stdoutUsers.length > 1) return usage(`${stdoutUsers.join(' and ')} would both write to standard output`);
  if (opts.format && !opts.write) return usage('-F chooses the format of -w: give -w FILE too');

  let peeked: { captures: CaptureInput[]; stdin?: AsyncIterable<unknown> };
  try {
    checkPlumbing(captures, [opts.write, opts.verdicts, opts.inject, opts.log]);
    const missing = checkReadable(opts.script === undefined ? [filterPath!, ...captures] : captures);
    if (missing.length > 0) throw new RunInputError(missing.join('\nluapf: '), EXIT_BAD_INPUT);
    peeked = await peekCaptures(captures);
    if (opts.write && outputFormat(opts.write, opts.format) === 'pcap') checkOneLinkType(opts.write, peeked.captures);
  } catch (e) {
    if (!(e instanceof RunInputError)) throw e;
    process.stderr.write(`luapf: ${e.message}\n`);
    return e.exitCode;
  }

  let loaded: Loaded;
  try {
    loaded = await loadFilterFor(filterPath, opts);
  } catch (e) {
    const message = describeLoadError(e);
    if (message === undefined) throw e;
    process.stderr.write(`luapf: ${message}\n`);
    return EXIT_BAD_INPUT;
  }
  const { filter, fix } = loaded;
  if ((opts.inject !== undefined || opts.log !== undefined) && !('lunatik' in filter)) {
    filter.close();
    return usage(`${opts.inject !== undefined ? '--inject' : '--log'} is for Lunatik scripts (netfilter hooks, XDP)`);
  }

  let writer: CaptureWriter | undefined;
  let verdictFile: WriteStream | undefined;
  let injectWriter: CaptureWriter | undefined;
  let logFile: WriteStream | undefined;
  try {
    if (opts.write) {
      const format = outputFormat(opts.write, opts.format);
      const { linkType, snaplen } = outputHeader(peeked.captures);
      const dest = opts.write === '-' ? '-' : openOutput(opts.write);
      writer = createCaptureWriter(dest, { linkType, format, snaplen, name: opts.write === '-' ? '<stdout>' : opts.write });
    }
    if (opts.verdicts && opts.verdicts !== '-') verdictFile = openOutput(opts.verdicts);
    if (opts.inject) {
      const { snaplen } = outputHeader(peeked.captures);
      injectWriter = createCaptureWriter(openOutput(opts.inject), { linkType: 1, format: 'pcapng', snaplen, name: opts.inject });
    }
    if (opts.log) logFile = openOutput(opts.log);
  } catch (e) {
    filter.close();
    if (!(e instanceof RunInputError)) throw e;
    process.stderr.write(`luapf: ${e.message}\n`);
    return e.exitCode;
  }
  const verdictOut = opts.verdicts === '-' ? process.stdout : verdictFile;
  // a Lunatik script's outcomes: final bytes for -w, --inject, --log, the verdict names
  const lunatik = 'lunatik' in filter
    ? new LunatikRun(filter as unknown as LunatikFilter, {
      inject: injectWriter,
      log: (line) => { (logFile ?? process.stderr).write(line); },
    })
    : undefined;
  if (opts.print || verdictOut === process.stdout || opts.write === '-') quietOnClosedPipe();

  // --print lines are gathered per chunk of input and written when the runner drains.
  let printed = '';
  const flushPrinted = async (): Promise<void> => {
    if (printed.length === 0) return;
    const ok = process.stdout.write(printed);
    printed = '';
    if (!ok) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  };
  const toWriter = (record: WritableRecord): void => {
    try {
      writer!.write(record);
    } catch (e) {
      // Only a pcapng interface declared after the first packet can get here (the rest was checked up front).
      if (e instanceof CaptureError && /one link type/.test(e.message)) {
        throw new CaptureError(e.file, e.offset, `${e.reason}: use -F pcapng`);
      }
      throw e;
    }
  };
  const progress = progressWanted(process.stderr, !!opts.quiet) && !(opts.print && process.stdout.isTTY)
    ? new Progress(peeked.captures.map((c) => c.size))
    : undefined;
  const seconds: number[] = [];
  const start = performance.now();
  let mark = start;

  let summary: RunSummary;
  try {
    summary = await runCaptures(filter, captures, {
      layer: Number(opts.layer) as Layer,
      onError: opts.onError ?? ('lunatik' in filter ? 'pass' : 'drop'),
      maxPackets: opts.count,
      stdin: peeked.stdin,
      onAccept: writer || opts.print
        ? (record, capture, n, error) => {
          const final = lunatik ? lunatik.written(record) : record;
          if (writer && final) toWriter(final);
          if (opts.print) printed += printLine(record, capture, n, error === undefined ? undefined : fix(error));
        }
        : undefined,
      drain: writer || opts.print || injectWriter
        ? async () => { await flushPrinted(); await writer?.ready(); await injectWriter?.ready(); }
        : undefined,
      onVerdict: verdictOut || lunatik
        ? (capture, n, verdict, message) => {
          const columns = lunatik ? `\t${lunatik.take(capture, n)}` : '';
          verdictOut?.write(`${capture}\t${n}\t${verdict}${columns}${message ? `\t${fix(message).replace(/[\t\n]/g, ' ')}` : ''}\n`);
        }
        : undefined,
      onProgress: progress ? (capture, n, bytes) => progress.update(capture, n, bytes) : undefined,
      onCaptureEnd: (c) => {
        const now = performance.now();
        seconds.push((now - mark) / 1000);
        mark = now;
        progress?.captureDone(c.packets);
      },
    });
    await flushPrinted();
  } finally {
    progress?.clear();
    filter.close();
  }
  const totalSeconds = (performance.now() - start) / 1000;

  let status = EXIT_OK;
  const closing: string[] = [];
  for (const w of [writer, injectWriter]) {
    try {
      await w?.close();
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      closing.push(e.message);
    }
  }
  for (const file of [verdictFile, logFile]) if (file) await new Promise<void>((resolve) => file.end(resolve));

  const disagreements = filter instanceof VerifyingFilter
    ? filter.disagreements.map((d) => ({ packet: locate(summary, d.packet), wasm: fix(d.wasm), lua: fix(d.lua) }))
    : undefined;
  const report = {
    filter: opts.script !== undefined ? INLINE_NAME : filterPath!,
    engine: filter instanceof VerifyingFilter ? 'wasm, verified against lua' : filter.engine,
    reasons: filter.reasons, summary, seconds, totalSeconds, disagreements, fix,
    lunatik: lunatik && {
      captures: summary.captures.map((c) => lunatik.captures.get(c.name)),
      total: lunatik.total,
      xdpOnly: (filter as unknown as LunatikFilter).lunatik.hooks.length === 0,
    },
  };
  const out = opts.write === '-' || opts.print || opts.verdicts === '-' ? process.stderr : process.stdout;
  out.write(opts.json ? jsonReport(report) : textReport(report));
  if (disagreements && disagreements.length > 0) status = EXIT_DISAGREE;
  for (const c of summary.captures) {
    if (c.readError) {
      process.stderr.write(`luapf: ${c.readError.message} (the ${c.packets} packets before it were filtered)\n`);
      status = EXIT_BAD_INPUT;
    }
  }
  for (const message of closing) {
    process.stderr.write(`luapf: ${message}\n`);
    status = EXIT_BAD_INPUT;
  }
  return status;
}

/** `luapf run ... --print | head`: a reader that goes away ends the run quietly, as tcpdump does. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_OK);
    throw e;
  });
}
