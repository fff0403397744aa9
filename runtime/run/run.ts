// Runs one filter over captures, batch by batch, and counts what happened
// under the verdict policy of run/verdicts.ts. A filter that offers
// resident() (the compiled engine) takes the zero-copy path of
// run/resident.ts; others get copied batches through filterBatch.
import { CaptureError, openCapture, READ_CHUNK, type CaptureRecord } from '../capture/read.js';
import type { Layer } from '../capture/link.js';
import { ACCEPT, ERROR, type Filter } from '../engine/filter.js';
import { BatchBuilder } from './batch.js';
import { residentFits, runCaptureResident } from './resident.js';
import {
  addCounts, CaptureTally, VerdictPolicy, zeroCounts, type Counts, type OnError, type RunCallbacks,
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
  /** the first `keepErrors` filter errors: "CAPTURE#N: file:line:col: message" */
  firstErrors: string[];
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
  const policy = new VerdictPolicy<string>(options.onError ?? 'drop', options.keepErrors ?? 10);
  const batch = new BatchBuilder(options.batchSize ?? 256);
  const verdicts = new Uint8Array(batch.capacity);
  const pending: CaptureRecord[] = [];
  const summary: RunSummary = { engine: filter.engine, captures: [], total: zeroCounts(), firstErrors: policy.firstErrors };
  const resident = options.zeroCopy === false ? undefined : filter.resident?.();
  const zeroCopy = resident !== undefined && residentFits(resident, batch.capacity);

  for (const source of captures) {
    const name = source === '-' ? '<stdin>' : source;
    const counts: CaptureSummary = { name, ...zeroCounts() };
    summary.captures.push(counts);
    const tally = new CaptureTally(name, counts, policy, options.onVerdict);

    const flush = (): void => {
      if (batch.count === 0) return;
      const errors = filter.filterBatch(batch, verdicts);
      const messages = new Map(errors.map((e) => [e.index, e.message]));
      for (let i = 0; i < batch.count; i++) {
        const passed = verdicts[i] === ERROR
          ? tally.failed(messages.get(i) ?? 'filter error')
          : tally.returned(verdicts[i] === ACCEPT);
        if (passed) options.onAccept?.(pending[i]);
      }
      batch.reset();
      pending.length = 0;
      options.onProgress?.(name, counts.packets);
    };

    const readFault = (e: unknown): void => {
      if (!(e instanceof CaptureError)) throw e;
      counts.readError = { message: e.message, offset: e.offset };
    };
    if (zeroCopy) {
      try {
        await runCaptureResident(resident, source === '-' ? process.stdin : source, {
          layer, batchSize: batch.capacity, chunkBytes: options.chunkBytes ?? READ_CHUNK, tally, callbacks: options,
        });
      } catch (e) {
        readFault(e);
      }
    } else {
      try {
        const reader = openCapture(source === '-' ? process.stdin : source, name);
        options.onCaptureStart?.(name, await reader.header());
        for await (const records of reader.batches()) {
          for (const record of records) {
            batch.addRecord(record, layer);
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
  }
  return summary;
}
