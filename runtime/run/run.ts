// Runs one filter over captures, batch by batch, and counts what happened
// under the verdict policy of run/verdicts.ts. A filter that offers
// resident() (the compiled engine) takes the zero-copy path of
// run/resident.ts; others get copied batches through filterBatch.
// A link type that cannot be stripped is the capture's fault like a
// malformed record: both end that capture with a CaptureError at the
// record's offset, and the next capture still runs.
import { CaptureError, CaptureReader, openCapture, READ_CHUNK, type CaptureRecord } from '../capture/read.js';
import { LinkTypeError, type Layer } from '../capture/link.js';
import { ACCEPT, ERROR, type Filter } from '../engine/filter.js';
import { BatchBuilder } from './batch.js';
import { linkTypeFault } from './link-fault.js';
import { residentFits, runCaptureResident } from './resident.js';
import {
  addCounts, CaptureTally, VerdictPolicy, zeroCounts, type Counts, type FirstError, type OnError, type RunCallbacks,
} from './verdicts.js';

export interface RunOptions extends RunCallbacks {
  /** 3 (default): pkt is the network-layer packet; 2: the whole frame */
  layer?: Layer;
  /** what a packet whose filter call failed becomes (default: drop) */
  onError?: OnError;
  /** packets per engine call (default 256) */
  batchSize?: number;
  /** error messages kept in the summary (default 10) */
  keepErrors?: number;
  /** called once per capture when it is done (read to its end, faulty, or stopped by maxPackets) */
  onCaptureEnd?: (summary: CaptureSummary) => void;
  /** stop after this many packets in all (tcpdump -c); the captures after that one are not opened */
  maxPackets?: number;
  /** what '-' reads (default: process.stdin); e.g. stdin with its first bytes already peeked and put back */
  stdin?: AsyncIterable<unknown>;
  /**
   * false: always copy packets into batches (Filter.filterBatch). Default:
   * a filter offering `resident()` (the compiled engine) gets the capture
   * read straight into its memory (runtime/run/resident.ts).
   */
  zeroCopy?: boolean;
  /** zero-copy path: bytes per read and initial read region (default 1 MiB; tests force tiny reads) */
  chunkBytes?: number;
}

export interface CaptureSummary extends Counts {
  name: string;
  /** the capture could not be read to its end: the counts cover the packets before `offset` */
  readError?: { message: string; offset: number };
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
  const layer = filter.layer ?? options.layer ?? 3;
  const onError = options.onError ?? 'drop';
  const policy = new VerdictPolicy<FirstError>(onError, options.keepErrors ?? 10);
  const batch = new BatchBuilder(options.batchSize ?? 256);
  const verdicts = new Uint8Array(batch.capacity);
  const pending: CaptureRecord[] = [];
  const summary: RunSummary = { engine: filter.engine, captures: [], total: zeroCounts(), firstErrors: policy.firstErrors };
  const resident = options.zeroCopy === false ? undefined : filter.resident?.();
  const zeroCopy = resident !== undefined && residentFits(resident, batch.capacity);
  const maxPackets = options.maxPackets ?? Infinity;
  const stdin = options.stdin ?? process.stdin;

  for (const source of captures) {
    if (summary.total.packets >= maxPackets) {
      summary.stoppedAfter = maxPackets;
      break;
    }
    const name = source === '-' ? '<stdin>' : source;
    const counts: CaptureSummary = { name, ...zeroCounts() };
    summary.captures.push(counts);
    const tally = new CaptureTally(name, counts, policy, options.onVerdict, onError === 'pass' && options.onAccept !== undefined);
    const left = maxPackets - summary.total.packets;

    const flush = (): void => {
      if (batch.count === 0) return;
      const errors = filter.filterBatch(batch, verdicts);
      const messages = new Map(errors.map((e) => [e.index, e.message]));
      for (let i = 0; i < batch.count; i++) {
        const failed = verdicts[i] === ERROR;
        const passed = failed ? tally.failed(messages.get(i) ?? 'filter error') : tally.returned(verdicts[i] === ACCEPT);
        if (passed) options.onAccept?.(pending[i]!, name, counts.packets, failed ? tally.lastError : undefined);
      }
      const last = pending[batch.count - 1]!;
      batch.reset();
      pending.length = 0;
      options.onProgress?.(name, counts.packets, last.offset + last.data.length);
    };

    const readFault = (e: unknown): void => {
      if (!(e instanceof CaptureError)) throw e;
      counts.readError = { message: e.message, offset: e.offset };
    };
    if (zeroCopy) {
      try {
        await runCaptureResident(resident, source === '-' ? stdin : source, {
          layer, batchSize: batch.capacity, chunkBytes: options.chunkBytes ?? READ_CHUNK, tally, callbacks: options, maxPackets: left,
        });
      } catch (e) {
        readFault(e);
      }
    } else {
      try {
        const reader = source === '-' ? new CaptureReader(stdin, name) : openCapture(source, name);
        options.onCaptureStart?.(name, await reader.header());
        reading: for await (const records of reader.batches()) {
          for (const record of records) {
            if (counts.packets + batch.count >= left) break reading;
            try {
              batch.addRecord(record, layer);
            } catch (e) {
              throw e instanceof LinkTypeError ? linkTypeFault(name, record.offset, e) : e;
            }
            pending.push(record);
            if (batch.count === batch.capacity) flush();
          }
          await options.drain?.();
        }
        flush();
      } catch (e) {
        flush(); // the packets before a fault are filtered all the same
        readFault(e);
      }
    }
    addCounts(summary.total, counts);
    if (summary.total.packets >= maxPackets) summary.stoppedAfter = maxPackets;
    options.onCaptureEnd?.(counts);
  }
  return summary;
}
