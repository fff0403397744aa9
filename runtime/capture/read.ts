// Capture reading: classic pcap and pcapng, from a path, '-' (stdin) or any
// Readable, in constant memory (one chunk plus at most one incomplete
// record), or a whole file at once. Records of a chunk are parsed
// synchronously and handed out as a batch; the per-record iterator is a
// thin layer over the batches. A malformed file raises CaptureError only
// after every good record before the problem has been delivered.

import * as fs from 'node:fs';
import { ArraySink, CaptureError, CaptureParser, RecordColumns, type CaptureInfo, type CaptureRecord } from './parse.js';

export { CaptureError, MAX_RECORD_BYTES, RecordColumns, type CaptureInfo, type CaptureRecord, type RecordSink } from './parse.js';

/** Chunk size used when reading a path. */
export const READ_CHUNK = 1 << 20;

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const part of parts) { out.set(part, o); o += part.length; }
  return out;
}

/** A read failure (or a CaptureError passed through) as a CaptureError at `offset`. */
export function ioError(name: string, offset: number, e: unknown): CaptureError {
  if (e instanceof CaptureError) return e;
  const msg = e instanceof Error ? ((e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code}: ` : '') + e.message : String(e);
  return new CaptureError(name, offset, `cannot read: ${msg}`);
}

/**
 * Drives a parser over a stream of chunks. Each yielded batch holds the
 * records completed by one chunk. Chunk bytes are never copied except to
 * join the pieces of a record that straddles chunks.
 */
async function* parseChunks(chunks: AsyncIterable<unknown>, parser: CaptureParser): AsyncGenerator<CaptureRecord[]> {
  const name = parser.name;
  let pend: Uint8Array[] = [];
  let pendLen = 0;
  let base = 0; // file offset of the first pending byte (= parse position)
  const iterator = chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await iterator.next();
      } catch (e) {
        throw ioError(name, base + pendLen, e);
      }
      if (step.done) break;
      const chunk = step.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new CaptureError(name, base + pendLen, 'stream delivered text, not bytes (do not set an encoding on it)');
      }
      let cur: Uint8Array = chunk;
      const sink = new ArraySink();
      // Complete the straddling record with just the bytes it needs from this chunk.
      while (pendLen > 0 && !parser.error) {
        const missing = parser.need - pendLen;
        if (missing > cur.length) {
          if (cur.length > 0) { pend.push(cur); pendLen += cur.length; }
          cur = cur.subarray(cur.length);
          break;
        }
        pend.push(cur.subarray(0, missing));
        cur = cur.subarray(missing);
        const head = concat(pend, pendLen + missing);
        const used = parser.parse(head, base, sink);
        base += used;
        const rest = head.subarray(used);
        pend = rest.length > 0 ? [rest] : [];
        pendLen = rest.length;
        if (pendLen > 0 && pendLen >= parser.need && !parser.error) {
          throw new CaptureError(name, base, 'internal error: capture parser made no progress');
        }
      }
      if (pendLen === 0 && cur.length > 0 && !parser.error) {
        const used = parser.parse(cur, base, sink);
        base += used;
        if (used < cur.length) { pend = [cur.subarray(used)]; pendLen = cur.length - used; }
      }
      if (sink.records.length > 0) yield sink.records;
      if (parser.error) throw parser.error;
    }
    parser.finish(pendLen, base);
    if (parser.error) throw parser.error;
  } finally {
    // Stop the source (e.g. close the file) when the consumer stops early or on error.
    await iterator.return?.();
  }
}

/** A capture being read. Iterate it with `for await` (records) or `batches()` (arrays of records). */
export class CaptureReader implements AsyncIterable<CaptureRecord> {
  readonly name: string;
  private readonly parser: CaptureParser;
  private readonly source: AsyncGenerator<CaptureRecord[]>;
  private readonly queued: CaptureRecord[][] = [];
  private deferred: CaptureError | null = null;
  private started = false;

  constructor(chunks: AsyncIterable<unknown>, name: string) {
    this.name = name;
    this.parser = new CaptureParser(name);
    this.source = parseChunks(chunks, this.parser);
  }

  /** The file header's information; undefined until it has been read (see header()). */
  get info(): CaptureInfo | undefined {
    return this.parser.info;
  }

  /** Records delivered so far by the parser. */
  get count(): number {
    return this.parser.count;
  }

  /** Reads until the header is known (pcapng: the first interface) and returns it; throws CaptureError. */
  async header(): Promise<CaptureInfo> {
    while (!this.parser.info && !this.deferred) {
      let step: IteratorResult<CaptureRecord[]>;
      try {
        step = await this.source.next();
      } catch (e) {
        this.deferred = ioError(this.name, 0, e);
        break;
      }
      if (step.done) break;
      this.queued.push(step.value);
    }
    if (this.parser.info) return this.parser.info;
    throw this.deferred ?? new CaptureError(this.name, 0, 'no capture header');
  }

  /** Batches of records, one per chunk of input; throws CaptureError after the last good batch. */
  async *batches(): AsyncGenerator<CaptureRecord[]> {
    if (this.started) throw new Error('CaptureReader can be iterated only once');
    this.started = true;
    while (this.queued.length > 0) yield this.queued.shift()!;
    if (this.deferred) throw this.deferred;
    yield* this.source;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CaptureRecord> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Stops reading and releases the source (only needed when not iterating to the end). */
  async close(): Promise<void> {
    await this.source.return(undefined);
  }
}

/** The file's chunks; the file is opened on the first read and closed when iteration stops. */
async function* lazyFile(path: string): AsyncGenerator<Buffer> {
  const stream = fs.createReadStream(path, { highWaterMark: READ_CHUNK });
  try {
    yield* stream as AsyncIterable<Buffer>;
  } finally {
    stream.destroy();
  }
}

/**
 * Opens a capture: a file path, '-' for standard input, or a Readable of
 * bytes. `name` is used in error messages (defaults to the path, "<stdin>"
 * or "<stream>"). Nothing is read until header() or iteration starts.
 */
export function openCapture(source: string | NodeJS.ReadableStream, name?: string): CaptureReader {
  if (typeof source === 'string') {
    if (source === '-') return new CaptureReader(process.stdin, name ?? '<stdin>');
    return new CaptureReader(lazyFile(source), name ?? source);
  }
  return new CaptureReader(source as AsyncIterable<unknown>, name ?? '<stream>');
}

export interface ParsedCapture {
  info: CaptureInfo;
  records: CaptureRecord[];
  /** the file's bytes; every record's `data` is a view into this buffer */
  bytes: Uint8Array;
}

/** Parses a whole capture held in memory. Never throws: a problem is returned in `error` with the good records before it. */
export function parseCapture(bytes: Uint8Array, name = '<buffer>'): Partial<ParsedCapture> & { records: CaptureRecord[]; bytes: Uint8Array; error?: CaptureError } {
  const parser = new CaptureParser(name);
  const sink = new ArraySink();
  const used = parser.parse(bytes, 0, sink);
  parser.finish(bytes.length - used, used);
  return { info: parser.info, records: sink.records, bytes, ...(parser.error ? { error: parser.error } : {}) };
}

/** A whole file's bytes, read synchronously; a failure is a CaptureError at offset 0. */
function readWholeFile(path: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw ioError(path, 0, e);
  }
}

/** Reads a whole capture file synchronously (the benchmark's path). Throws CaptureError on any problem. */
export function readCaptureFile(path: string): ParsedCapture {
  const bytes = readWholeFile(path);
  const r = parseCapture(bytes, path);
  if (r.error) throw r.error;
  return { info: r.info!, records: r.records, bytes };
}

/**
 * A whole capture as columns, without one object per packet: packet i is
 * `bytes.subarray(dataOffset[i], dataOffset[i] + capLen[i])`. This is the
 * layout of a PacketBatch (runtime/engine/filter.ts), for the benchmark.
 */
export interface CaptureIndex
  extends Pick<RecordColumns, 'count' | 'linkType' | 'tsSec' | 'tsNsec' | 'origLen' | 'dataOffset' | 'capLen' | 'offset'> {
  info: CaptureInfo | undefined;
  bytes: Uint8Array;
  error?: CaptureError;
}

/** Parses a whole in-memory capture (at most 4 GiB) into columns. Never throws: a problem is returned in `error`. */
export function indexCapture(bytes: Uint8Array, name = '<buffer>'): CaptureIndex {
  const parser = new CaptureParser(name);
  // A guess from a typical 600-byte packet; the columns grow if needed.
  const sink = new RecordColumns(Math.ceil(bytes.length / 512) + 16, bytes.byteOffset);
  if (bytes.length > 0xffffffff) {
    parser.error = new CaptureError(name, 0, 'in-memory capture over 4 GiB: stream it instead');
  } else {
    const used = parser.parse(bytes, 0, sink);
    parser.finish(bytes.length - used, used);
  }
  const n = sink.count;
  return {
    info: parser.info, bytes, count: n,
    linkType: sink.linkType.subarray(0, n), tsSec: sink.tsSec.subarray(0, n), tsNsec: sink.tsNsec.subarray(0, n),
    origLen: sink.origLen.subarray(0, n), dataOffset: sink.dataOffset.subarray(0, n), capLen: sink.capLen.subarray(0, n),
    offset: sink.offset.subarray(0, n),
    ...(parser.error ? { error: parser.error } : {}),
  };
}

/** indexCapture over a file read synchronously. Throws CaptureError on any problem. */
export function indexCaptureFile(path: string): CaptureIndex & { info: CaptureInfo } {
  const r = indexCapture(readWholeFile(path), path);
  if (r.error) throw r.error;
  return r as CaptureIndex & { info: CaptureInfo };
}

/** What peekCapture learnt of a capture before any packet is filtered. */
export interface PeekedCapture {
  /** the header; for pcapng, linkTypes holds every interface declared before the first packet */
  info?: CaptureInfo;
  /** the capture is unreadable or malformed before its first packet */
  error?: CaptureError;
  /** the bytes read so far followed by the rest of the source: read the capture again from here */
  replay: AsyncIterable<unknown>;
}

/**
 * Reads a capture's header, and for pcapng every interface block up to the
 * first packet (a file may declare several link types there), without
 * losing the bytes: `replay` gives them again, so a stream such as stdin can
 * be peeked and then read in full. Stops at the first packet, so only the
 * leading blocks are held. A path is closed before this returns (its
 * `replay` opens it again when iterated).
 */
export async function peekCapture(source: string | AsyncIterable<unknown>, name: string): Promise<PeekedCapture> {
  const stream = typeof source === 'string' ? fs.createReadStream(source, { highWaterMark: 64 * 1024 }) : source;
  const iterator = stream[Symbol.asyncIterator]();
  const seen: Uint8Array[] = [];
  let total = 0;
  const counter = { count: 0, record() { this.count++; } };
  let parser = new CaptureParser(name);
  let done = false;
  let error: CaptureError | undefined;
  for (;;) {
    let step: IteratorResult<unknown>;
    try {
      step = await iterator.next();
    } catch (e) {
      error = ioError(name, total, e);
      break;
    }
    if (step.done) { done = true; break; }
    if (!(step.value instanceof Uint8Array)) {
      error = new CaptureError(name, total, 'stream delivered text, not bytes (do not set an encoding on it)');
      break;
    }
    seen.push(step.value);
    total += step.value.length;
    // The leading blocks are small: parse them again from the start rather than carry a straddling block.
    parser = new CaptureParser(name);
    counter.count = 0;
    parser.parse(concat(seen, total), 0, counter);
    if (parser.error || counter.count > 0 || parser.info?.format === 'pcap') break;
  }
  if (done && !error && !parser.error) {
    // The whole capture was read: an empty or too-short file is an error now.
    const bytes = concat(seen, total);
    parser = new CaptureParser(name);
    const used = parser.parse(bytes, 0, counter);
    parser.finish(bytes.length - used, used);
  }
  // A truncated capture after a complete header is reported when it is read, with its packets.
  error ??= parser.info ? undefined : parser.error ?? undefined;
  if (error || typeof source === 'string') await iterator.return?.();
  if (typeof source === 'string') return { info: parser.info, ...(error ? { error } : {}), replay: lazyFile(source) };
  async function* replay(): AsyncGenerator<unknown> {
    try {
      yield* seen;
      if (done || error) return;
      for (;;) {
        const step = await iterator.next();
        if (step.done) return;
        yield step.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { info: parser.info, ...(error ? { error } : {}), replay: replay() };
}
