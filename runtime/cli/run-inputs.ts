// `luapf run`'s inputs and outputs, checked before any packet is filtered:
// every file named exists and is not a directory, every capture's header
// (and a pcapng's interfaces before its first packet) is read, the -w format
// is chosen and a classic pcap refused when the captures mix link types, and
// the output files are opened. A failure here ends the run before it
// starts, so no partial result is lost and no output is left half-written.
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { peekCapture, type CaptureInfo } from '../capture/read.js';
import { DEFAULT_SNAPLEN, type CaptureFormat } from '../capture/write.js';
import { linkTypeName } from '../capture/link.js';
import { EXIT_BAD_INPUT, EXIT_USAGE } from './exit-codes.js';

/** A problem found before the run: a one-line message (without "luapf: ") and the exit code. */
export class RunInputError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** "No such file or directory" from Node's "ENOENT: no such file or directory, open 'x'". */
export function systemMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const m = /^[A-Z]+: (.*?), \w+/.exec(message);
  const text = m ? m[1] : message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Why `path` cannot be read as a file, or undefined when it can be opened. */
export function unreadable(path: string): string | undefined {
  try {
    if (fs.statSync(path).isDirectory()) return 'Is a directory';
    fs.closeSync(fs.openSync(path, 'r'));
    return undefined;
  } catch (e) {
    return systemMessage(e);
  }
}

/** Every unreadable file among `paths` ('-' is standard input), one "FILE: reason" each. */
export function checkReadable(paths: readonly string[]): string[] {
  const problems: string[] = [];
  for (const path of paths) {
    if (path === '-') continue;
    const why = unreadable(path);
    if (why) problems.push(`${path}: ${why}`);
  }
  return problems;
}

/** A capture as the run will read it. */
export interface CaptureInput {
  source: string;
  name: string;
  /** bytes in the file, when known (a file, or stdin redirected from a file) */
  size?: number;
  /** undefined when the header could not be read (the run reports that capture's error) */
  info?: CaptureInfo;
}

export interface PeekedInputs {
  captures: CaptureInput[];
  /** standard input with its first bytes put back, when '-' is among the captures */
  stdin?: AsyncIterable<unknown>;
}

/** Reads every capture's header (stdin's is put back for the run). Unreadable headers are left to the run. */
export async function peekCaptures(sources: readonly string[]): Promise<PeekedInputs> {
  const captures: CaptureInput[] = [];
  let stdin: AsyncIterable<unknown> | undefined;
  for (const source of sources) {
    if (source === '-') {
      const peeked = await peekCapture(process.stdin, '<stdin>');
      stdin = peeked.replay;
      captures.push({ source, name: '<stdin>', size: stdinSize(), info: peeked.info });
      continue;
    }
    const peeked = await peekCapture(source, source);
    captures.push({ source, name: source, size: fs.statSync(source).size, info: peeked.info });
  }
  return { captures, stdin };
}

function stdinSize(): number | undefined {
  try {
    const stat = fs.fstatSync(0);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

/** The -w format: -F, else the file's extension (.pcapng, else classic pcap; '-' is pcap). */
export function outputFormat(write: string, format?: string): CaptureFormat {
  if (format === 'pcap' || format === 'pcapng') return format;
  return write !== '-' && /\.pcapng$/i.test(write) ? 'pcapng' : 'pcap';
}

/** The -w file's header: the first link type met, and the largest snaplen (0, unlimited, gives the default). */
export function outputHeader(captures: readonly CaptureInput[]): { linkType: number; snaplen: number } {
  const infos = captures.flatMap((c) => (c.info ? [c.info] : []));
  const snaplens = infos.map((i) => i.snaplen);
  return {
    linkType: infos[0]?.linkType ?? 1,
    snaplen: snaplens.length > 0 && snaplens.every((s) => s > 0) ? Math.max(...snaplens) : DEFAULT_SNAPLEN,
  };
}

/** Refuses a classic pcap output for captures of several link types, naming which capture has which. */
export function checkOneLinkType(write: string, captures: readonly CaptureInput[]): void {
  const byType = new Map<number, string[]>();
  for (const c of captures) {
    for (const t of c.info?.linkTypes ?? []) byType.set(t, [...(byType.get(t) ?? []), c.name]);
  }
  if (byType.size <= 1) return;
  const list = [...byType].map(([t, names]) => `${t} ${linkTypeName(t)} (${names.join(', ')})`).join(', ');
  throw new RunInputError(
    `-w ${write}: a classic pcap holds one link type and the captures have ${byType.size}: ${list}; ` +
      `write pcapng with -F pcapng (or a .pcapng file name)`,
    EXIT_USAGE,
  );
}

/** Refuses inputs that cannot work together: stdin twice or from a terminal, an output over an input. */
export function checkPlumbing(captures: readonly string[], outputs: readonly (string | undefined)[]): void {
  if (captures.filter((c) => c === '-').length > 1) throw new RunInputError("'-' (standard input) given more than once", EXIT_USAGE);
  if (captures.includes('-') && process.stdin.isTTY) {
    throw new RunInputError("'-' reads a capture from standard input, which is a terminal: pipe one in", EXIT_USAGE);
  }
  const real = (p: string): string => {
    try { return fs.realpathSync(p); } catch { return resolve(p); }
  };
  const inputs = new Set(captures.filter((c) => c !== '-').map(real));
  for (const out of outputs) {
    if (out !== undefined && out !== '-' && inputs.has(real(out))) {
      throw new RunInputError(`${out} is both a capture to read and an output to write`, EXIT_USAGE);
    }
  }
}

/** Opens an output file now, so that a bad path fails before the run rather than after it. */
export function openOutput(path: string): fs.WriteStream {
  let fd: number;
  try {
    if (fs.existsSync(path) && fs.statSync(path).isDirectory()) throw new Error('EISDIR: is a directory, open');
    fd = fs.openSync(path, 'w');
  } catch (e) {
    throw new RunInputError(`${path}: ${systemMessage(e)}`, EXIT_BAD_INPUT);
  }
  return fs.createWriteStream(path, { fd });
}

/** The chunk name of an inline script (errors read "-e:1:5: ..."). */
export const INLINE_NAME = '-e';

/** A script -e TEXT may stand for, and how many columns line 1 was pushed right by the wrapper. */
export interface InlineScript {
  source: string;
  shift: number;
}

const DEFINES_FILTER = /(^|[^.:\w])function\s+filter\s*\(|(^|[^.:\w])filter\s*=\s*function\b/;
const STATEMENT = /^\s*(local|if|for|while|return|do|repeat|function|goto)\b/;

/**
 * The scripts to try for -e TEXT, in order: TEXT itself when it defines
 * filter; else `return TEXT` (an expression, tcpdump-style) unless TEXT
 * starts like a statement, then TEXT as the body of filter(pkt, time).
 * The wrapper stays on line 1 so line numbers are the user's.
 */
export function inlineScripts(text: string): InlineScript[] {
  if (DEFINES_FILTER.test(text)) return [{ source: text, shift: 0 }];
  const head = 'function filter(pkt, time) ';
  const body = { source: `${head}${text}\nend\n`, shift: head.length };
  if (STATEMENT.test(text)) return [body];
  const expression = `${head}return `;
  return [{ source: `${expression}${text}\nend\n`, shift: expression.length }, body];
}

/** Moves "-e:1:COL" positions in a message back by the wrapper's width (and "1:COL: " of compiler reasons). */
export function shiftColumns(message: string, shift: number): string {
  if (shift === 0) return message;
  const back = (col: string) => String(Math.max(1, Number(col) - shift));
  return message
    .replace(/(^|[\s(])-e:1:(\d+)/g, (_, pre: string, col: string) => `${pre}-e:1:${back(col)}`)
    .replace(/^1:(\d+): /, (_, col: string) => `1:${back(col)}: `);
}
