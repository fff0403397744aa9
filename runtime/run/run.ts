// Runs one filter over captures, batch by batch, and counts what happened.
// Engines only report accept/reject/error; here an error becomes the
// --on-error verdict, is counted, and the first few are kept with their text.
// A filter that offers resident() (the compiled engine) takes the zero-copy
// path of run/resident.ts; others get copied batches through filterBatch.
// A link type that cannot be stripped is the capture's fault like a
// malformed record: both end that capture with a CaptureError at the
// record's offset, and the next capture still runs.
import { CaptureError, CaptureReader, openCapture, READ_CHUNK, type CaptureInfo, type CaptureRecord } from '../capture/read.js';
import { ACCEPT, ERROR, type Filter, type PacketBatch } from '../engine/filter.js';
import { LinkTypeError, networkOffset } from '../capture/link.js';
import { residentFits, runCaptureResident } from './resident.js';

export type Layer = 2 | 3;
export type OnError = 'drop' | 'pass';
export type VerdictName = 'accept' | 'reject' | 'error';

export interface RunOptions {
  /** 3 (default): pkt is the network-layer packet; 2: the whole frame */
  layer?: Layer;
  /** what a packet whose filter call failed becomes (default: drop) */
  onError?: OnError;
  /** packets per engine call (default 256) */
  batchSize?: number;
  /** error messages kept in the summary (default 10) */
  keepErrors?: number;
  /** called for every packet, in order; n counts from 1 in each capture */
  onVerdict?: (capture: string, n: number, verdict: VerdictName, message?: string) => void;
  /** receives every accepted packet's whole frame, its number, and the error it passed with (--on-error pass) */
  onAccept?: (record: CaptureRecord, capture: string, n: number, error?: string) => void;
  /** called once per capture when its header has been read */
  onCaptureStart?: (capture: string, info: CaptureInfo) => void;
  /** called once per capture when it is done (read to its end, faulty, or stopped by maxPackets) */
  onCaptureEnd?: (summary: CaptureSummary) => void;
  /** called after every batch, for progress displays; bytesSoFar: the file offset of the last packet filtered */
  onProgress?: (capture: string, packetsSoFar: number, bytesSoFar: number) => void;
  /** stop after this many packets in all (tcpdump -c); the captures after that one are not opened */
  maxPackets?: number;
  /** what '-' reads (default: process.stdin); e.g. stdin with its first bytes already peeked and put back */
  stdin?: AsyncIterable<unknown>;
  /** awaited after each chunk of input: lets a slow consumer (the -w writer) hold the reader back */
  drain?: () => Promise<void>;
  /**
   * false: always copy packets into batches (Filter.filterBatch). Default:
   * a filter offering `resident()` (the compiled engine) gets the capture
   * read straight into its memory (runtime/run/resident.ts).
   */
  zeroCopy?: boolean;
  /** zero-copy path: bytes per read and initial read region (default 1 MiB; tests force tiny reads) */
  chunkBytes?: number;
}

export interface Counts {
  packets: number;
  /** packets passed, errors included under --on-error pass */
  accepted: number;
  /** packets dropped, errors included under --on-error drop */
  rejected: number;
  /** packets whose filter call failed (also counted as accepted or rejected) */
  errors: number;
}

export interface CaptureSummary extends Counts {
  name: string;
  /** the capture could not be read to its end: the counts cover the packets before `offset` */
  readError?: { message: string; offset: number };
}

/** A packet whose filter call failed. */
export interface FirstError {
  capture: string;
  /** the packet's number in its capture, from 1 */
  packet: number;
  /** the engine's text: "file:line:col: message" where the position is known */
  message: string;
}

export interface RunSummary {
  engine: string;
  captures: CaptureSummary[];
  total: Counts;
  /** the first `keepErrors` filter errors */
  firstErrors: FirstError[];
  /** set when maxPackets stopped the run: the captures after the last one listed were not read */
  stoppedAfter?: number;
}

/** A reusable batch buffer: packet bytes are copied in once, contiguously. */
class BatchBuilder implements PacketBatch {
  bytes = new Uint8Array(1 << 20);
  offsets: Uint32Array;
  lengths: Uint32Array;
  timestampsSec: Float64Array;
  timestampsNsec: Uint32Array;
  count = 0;
  private used = 0;

  constructor(readonly capacity: number) {
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.timestampsSec = new Float64Array(capacity);
    this.timestampsNsec = new Uint32Array(capacity);
  }

  reset(): void {
    this.count = 0;
    this.used = 0;
  }

  add(packet: Uint8Array, tsSec: number, tsNsec: number): void {
    if (this.used + packet.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + packet.length));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(packet, this.used);
    const i = this.count++;
    this.offsets[i] = this.used;
    this.lengths[i] = packet.length;
    this.timestampsSec[i] = tsSec;
    this.timestampsNsec[i] = tsNsec;
    this.used += packet.length;
  }
}

function zeroCounts(): Counts {
  return { packets: 0, accepted: 0, rejected: 0, errors: 0 };
}

function addCounts(into: Counts, from: Counts): void {
  into.packets += from.packets;
  into.accepted += from.accepted;
  into.rejected += from.rejected;
  into.errors += from.errors;
}

/**
 * Runs `filter` over each capture in turn ('-' is standard input). A capture
 * that cannot be read to its end keeps the counts of the packets before the
 * fault and records the fault; the next capture still runs.
 */
export async function runCaptures(
  filter: Filter,
  captures: readonly string[],
  options: RunOptions = {},
): Promise<RunSummary> {
  const layer = options.layer ?? 3;
  const passErrors = (options.onError ?? 'drop') === 'pass';
  const keepErrors = options.keepErrors ?? 10;
  const batch = new BatchBuilder(options.batchSize ?? 256);
  const verdicts = new Uint8Array(batch.capacity);
  const pending: CaptureRecord[] = [];
  const summary: RunSummary = { engine: filter.engine, captures: [], total: zeroCounts(), firstErrors: [] };
  const resident = options.zeroCopy === false ? undefined : filter.resident?.();
  const zeroCopy = resident !== undefined && residentFits(resident, batch.capacity);
  const maxPackets = options.maxPackets ?? Infinity;

  for (const source of captures) {
    if (summary.total.packets >= maxPackets) {
      summary.stoppedAfter = maxPackets;
      break;
    }
    const name = source === '-' ? '<stdin>' : source;
    const counts: CaptureSummary = { name, ...zeroCounts() };
    summary.captures.push(counts);
    const left = maxPackets - summary.total.packets;
    const stdin = options.stdin ?? process.stdin;
    const finish = (): void => {
      addCounts(summary.total, counts);
      if (summary.total.packets >= maxPackets) summary.stoppedAfter = maxPackets;
      options.onCaptureEnd?.(counts);
    };

    const flush = (): void => {
      if (batch.count === 0) return;
      const errors = filter.filterBatch(batch, verdicts);
      const messages = new Map(errors.map((e) => [e.index, e.message]));
      for (let i = 0; i < batch.count; i++) {
        const n = counts.packets + 1;
        counts.packets = n;
        const verdict = verdicts[i];
        let passed = verdict === ACCEPT;
        if (verdict === ERROR) {
          counts.errors++;
          passed = passErrors;
          const message = messages.get(i) ?? 'filter error';
          if (summary.firstErrors.length < keepErrors) summary.firstErrors.push({ capture: name, packet: n, message });
          options.onVerdict?.(name, n, 'error', message);
        } else {
          options.onVerdict?.(name, n, passed ? 'accept' : 'reject');
        }
        if (passed) {
          counts.accepted++;
          options.onAccept?.(pending[i], name, n, verdict === ERROR ? messages.get(i) ?? 'filter error' : undefined);
        } else {
          counts.rejected++;
        }
      }
      const last = pending[batch.count - 1];
      batch.reset();
      pending.length = 0;
      options.onProgress?.(name, counts.packets, last.offset + last.data.length);
    };

    if (zeroCopy) {
      try {
        await runCaptureResident(resident, source === '-' ? stdin : source, {
          name, layer, passErrors, keepErrors, batchSize: batch.capacity, chunkBytes: options.chunkBytes ?? READ_CHUNK,
          counts, firstErrors: summary.firstErrors, onVerdict: options.onVerdict, onAccept: options.onAccept,
          onCaptureStart: options.onCaptureStart, onProgress: options.onProgress, drain: options.drain, maxPackets: left,
        });
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
        counts.readError = { message: e.message, offset: e.offset };
      }
      finish();
      continue;
    }

    try {
      const reader = source === '-' ? new CaptureReader(stdin, name) : openCapture(source, name);
      options.onCaptureStart?.(name, await reader.header());
      reading: for await (const records of reader.batches()) {
        for (const record of records) {
          if (counts.packets + batch.count >= left) break reading;
          const frame = record.data;
          let start: number;
          try {
            start = networkOffset(record.linkType, frame, layer);
          } catch (e) {
            throw e instanceof LinkTypeError ? new CaptureError(name, record.offset, e.message) : e;
          }
          pending.push(record);
          batch.add(frame.subarray(start), record.tsSec, record.tsNsec);
          if (batch.count === batch.capacity) flush();
        }
        await options.drain?.();
      }
      flush();
    } catch (e) {
      flush();
      if (!(e instanceof CaptureError)) throw e;
      counts.readError = { message: e.message, offset: e.offset };
    }
    finish();
  }
  return summary;
}
