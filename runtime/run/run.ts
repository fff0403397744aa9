// Runs one filter over captures, batch by batch, and counts what happened.
// Engines only report accept/reject/error; here an error becomes the
// --on-error verdict, is counted, and the first few are kept with their text.
// A filter that offers resident() (the compiled engine) takes the zero-copy
// path of run/resident.ts; others get copied batches through filterBatch.
import { CaptureError, openCapture, READ_CHUNK, type CaptureInfo, type CaptureRecord } from '../capture/read.js';
import { ACCEPT, ERROR, type Filter } from '../engine/filter.js';
import { BatchBuilder } from './batch.js';
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
  /** receives every accepted packet's whole frame */
  onAccept?: (record: CaptureRecord) => void;
  /** called once per capture when its header has been read */
  onCaptureStart?: (capture: string, info: CaptureInfo) => void;
  /** called after every batch, for progress displays */
  onProgress?: (capture: string, packetsSoFar: number) => void;
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

export interface RunSummary {
  engine: string;
  captures: CaptureSummary[];
  total: Counts;
  /** the first `keepErrors` filter errors: "CAPTURE#N: file:line:col: message" */
  firstErrors: string[];
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

  for (const source of captures) {
    const name = source === '-' ? '<stdin>' : source;
    const counts: CaptureSummary = { name, ...zeroCounts() };
    summary.captures.push(counts);

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
          if (summary.firstErrors.length < keepErrors) summary.firstErrors.push(`${name}#${n}: ${message}`);
          options.onVerdict?.(name, n, 'error', message);
        } else {
          options.onVerdict?.(name, n, passed ? 'accept' : 'reject');
        }
        if (passed) {
          counts.accepted++;
          options.onAccept?.(pending[i]);
        } else {
          counts.rejected++;
        }
      }
      batch.reset();
      pending.length = 0;
      options.onProgress?.(name, counts.packets);
    };

    if (zeroCopy) {
      try {
        await runCaptureResident(resident, source === '-' ? process.stdin : source, {
          name, layer, passErrors, keepErrors, batchSize: batch.capacity, chunkBytes: options.chunkBytes ?? READ_CHUNK,
          counts, firstErrors: summary.firstErrors, onVerdict: options.onVerdict, onAccept: options.onAccept,
          onCaptureStart: options.onCaptureStart, onProgress: options.onProgress, drain: options.drain,
        });
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
        counts.readError = { message: e.message, offset: e.offset };
      }
      addCounts(summary.total, counts);
      continue;
    }

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
      flush();
      if (!(e instanceof CaptureError)) throw e;
      counts.readError = { message: e.message, offset: e.offset };
    }
    addCounts(summary.total, counts);
  }
  return summary;
}
