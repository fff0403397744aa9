// The zero-copy path of `luapf run` for filters that run in their own
// linear memory (the compiled engine). Capture bytes are read straight into
// a region of the module's memory (a file: fs.readSync into it; a stream
// such as stdin: each chunk copied there once), the shared CaptureParser
// parses them in place into columns (no object per packet), and each batch
// is one Wasm call over descriptors that point into the region; verdict
// words are then scanned in bulk. A record straddling two reads is moved to
// the region's start and completed by the next read. Packet bytes leave the
// module's memory only for consumers that ask for them (onAccept).
//
// Memory layout from reserve()'s start: B descriptors (16 bytes each), B
// verdict words, then the read region (grown only when one record/block is
// larger than it, and never past the filter's memory cap).
import * as fs from 'node:fs';
import { CaptureError, CaptureParser, RecordColumns } from '../capture/parse.js';
import { ioError } from '../capture/read.js';
import { DESCRIPTOR_BYTES as DESC, VERDICT_ACCEPT, VERDICT_BYTES, VERDICT_TRAPPED } from '../../compiler/abi.js';
import type { FilterError, ResidentFilter } from '../engine/filter.js';
import { writeDescriptor } from '../engine/wasm.js';
import { LinkTypeError, networkOffsetAt, type Layer } from '../capture/link.js';
import { linkTypeFault } from './link-fault.js';
import type { CaptureTally, RunCallbacks } from './verdicts.js';

const GROW_STEP = 64 * 1024;

export interface ResidentRunContext {
  layer: Layer;
  batchSize: number;
  /** bytes per read, and the read region's initial size */
  chunkBytes: number;
  /** the capture's name, counts and per-packet reports, under the run's verdict policy */
  tally: CaptureTally;
  /** the run's callbacks (onVerdict is the tally's) */
  callbacks: RunCallbacks;
  /** packets this capture may still filter (default: all); reading stops there */
  maxPackets?: number;
}

/** True when the filter's memory cap leaves room for the descriptor and verdict tables and some packet bytes. */
export function residentFits(filter: ResidentFilter, batchSize: number): boolean {
  return filter.residentCapacity >= batchSize * (DESC + VERDICT_BYTES) + GROW_STEP;
}

/** Where capture bytes come from: `fill` writes up to `length` bytes at `at` in `memory`, 0 at the end. */
interface ByteSource {
  fill(memory: WebAssembly.Memory, at: number, length: number, fileOffset: number): number | Promise<number>;
  close(): Promise<void>;
}

/** A file, read synchronously straight into the module's memory. */
function fileSource(path: string): ByteSource {
  let fd: number | undefined;
  return {
    fill(memory, at, length) {
      fd ??= fs.openSync(path, 'r');
      return fs.readSync(fd, new Uint8Array(memory.buffer, at, length));
    },
    async close() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}

/** A stream of byte chunks; each chunk is copied once, into the module's memory. */
function streamSource(chunks: AsyncIterable<unknown>, name: string): ByteSource {
  const iterator = chunks[Symbol.asyncIterator]();
  let chunk: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    async fill(memory, at, length, fileOffset) {
      while (chunk.length === 0 && !done) {
        const step = await iterator.next();
        if (step.done) { done = true; break; }
        if (!(step.value instanceof Uint8Array)) {
          throw new CaptureError(name, fileOffset, 'stream delivered text, not bytes (do not set an encoding on it)');
        }
        chunk = step.value;
      }
      const n = Math.min(length, chunk.length);
      new Uint8Array(memory.buffer, at, n).set(chunk.subarray(0, n));
      chunk = chunk.subarray(n);
      return n;
    },
    async close() {
      await iterator.return?.();
    },
  };
}


/**
 * Runs one capture ('-'-style sources are passed as a stream) through a
 * resident filter, counting into ctx.tally. Throws CaptureError for an
 * unreadable or malformed capture, after every good packet before the fault
 * has been filtered; a link type layer 3 cannot strip is such a fault, at
 * that record's offset.
 */
export async function runCaptureResident(filter: ResidentFilter, source: string | AsyncIterable<unknown>, ctx: ResidentRunContext): Promise<void> {
  const { layer, tally, callbacks, batchSize: B } = ctx;
  const name = tally.name;
  const stopAt = tally.counts.packets + (ctx.maxPackets ?? Infinity);
  const tables = B * (DESC + VERDICT_BYTES);
  let regionBytes = Math.max(16, Math.min(ctx.chunkBytes, filter.residentCapacity - tables));
  const readBytes = Math.max(1, ctx.chunkBytes);
  const descBase = filter.reserve(tables + regionBytes);
  const verdictBase = descBase + B * DESC;
  const region = verdictBase + B * VERDICT_BYTES;
  const memory = filter.memory;

  const parser = new CaptureParser(name);
  const cols = new RecordColumns(4096, 0);
  const traps: FilterError[] = [];
  let u8 = new Uint8Array(memory.buffer);
  let u32 = new Uint32Array(memory.buffer);
  const views = (): void => {
    if (u8.buffer !== memory.buffer) { u8 = new Uint8Array(memory.buffer); u32 = new Uint32Array(memory.buffer); }
  };

  /** Applies the verdict words of records [first, first + k) to the tally. */
  const account = (first: number, k: number): void => {
    const { onAccept } = callbacks;
    const vw = verdictBase >>> 2;
    for (let i = 0; i < k; i++) {
      const w = u32[vw + i]!;
      const failed = w > VERDICT_ACCEPT;
      const passed = failed
        ? tally.failed(() => (w === VERDICT_TRAPPED ? (traps.find((t) => t.index === i)?.message ?? 'filter error') : filter.describeError(w)))
        : tally.returned(w === VERDICT_ACCEPT);
      if (passed && onAccept) {
        const r = first + i;
        const at = cols.dataOffset[r]!;
        onAccept({
          linkType: cols.linkType[r]!, tsSec: cols.tsSec[r]!, tsNsec: cols.tsNsec[r]!, origLen: cols.origLen[r]!,
          data: u8.slice(at, at + cols.capLen[r]!), offset: cols.offset[r]!,
        }, name, tally.counts.packets, failed ? tally.lastError : undefined);
      }
    }
    const last = first + k - 1;
    callbacks.onProgress?.(name, tally.counts.packets, cols.offset[last]! + cols.capLen[last]!);
  };

  /** Filters records [first, first + k) of `cols`: descriptors, one Wasm call, the verdicts. */
  const runBatch = (first: number, k: number): void => {
    let limit = k;
    let linkError: unknown;
    const dw = descBase >>> 2;
    for (let i = 0; i < k; i++) {
      const r = first + i;
      const at = cols.dataOffset[r]!;
      const len = cols.capLen[r]!;
      let off: number;
      try {
        off = networkOffsetAt(cols.linkType[r]!, u8, at, len, layer);
      } catch (e) {
        // The packets before this one are still filtered, as the record-by-record path does.
        linkError = e instanceof LinkTypeError ? linkTypeFault(name, cols.offset[r]!, e) : e;
        limit = i;
        break;
      }
      writeDescriptor(u32, dw + i * (DESC >>> 2), at + off, len - off, cols.tsSec[r]!, cols.tsNsec[r]!);
    }
    if (limit > 0) {
      traps.length = 0;
      filter.runRaw(descBase, verdictBase, limit, traps);
      views();
      account(first, limit);
    }
    if (linkError !== undefined) throw linkError;
  };

  const src = typeof source === 'string' ? fileSource(source) : streamSource(source, name);
  let announced = false;
  const announce = (): void => {
    if (!announced && parser.info) {
      announced = true;
      callbacks.onCaptureStart?.(name, parser.info);
    }
  };
  let carry = 0; // unconsumed bytes at the region's start
  let base = 0; // file offset of the region's first byte
  try {
    for (;;) {
      if (parser.need > regionBytes) {
        const want = Math.ceil(parser.need / GROW_STEP) * GROW_STEP;
        const room = filter.residentCapacity - tables;
        if (parser.need > room) {
          throw new CaptureError(name, base, `a ${parser.need}-byte record does not fit the filter's memory cap (${room} bytes for packets)`);
        }
        regionBytes = Math.min(want, room);
        filter.reserve(tables + regionBytes);
      }
      let n: number;
      try {
        n = await src.fill(memory, region + carry, Math.min(readBytes, regionBytes - carry), base + carry);
      } catch (e) {
        throw ioError(name, base + carry, e);
      }
      if (n === 0) break;
      views();
      const avail = carry + n;
      cols.reset();
      const used = parser.parse(u8.subarray(region, region + avail), base, cols);
      announce();
      for (let j = 0; j < cols.count && tally.counts.packets < stopAt; j += B) {
        runBatch(j, Math.min(B, cols.count - j, stopAt - tally.counts.packets));
      }
      await callbacks.drain?.();
      if (tally.counts.packets >= stopAt) return;
      if (parser.error) throw parser.error;
      carry = avail - used;
      if (carry > 0 && used > 0) u8.copyWithin(region, region + used, region + avail);
      base += used;
      if (carry >= parser.need) throw new CaptureError(name, base, 'internal error: capture parser made no progress');
    }
    parser.finish(carry, base);
    announce();
    if (parser.error) throw parser.error;
  } finally {
    await src.close();
  }
}
