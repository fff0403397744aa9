// Throughput measurement: packets held in memory, a warm-up, then several
// timed samples; the figure reported is the median. Compiled filters run on
// packets laid out once in their own memory (no copy per pass), one Wasm
// call per batch, and the verdict words are counted straight from that
// memory, so what is timed is the filter and the batch loop, as in
// pflua-bench. Other engines go through Filter.filterBatch.
import { DESCRIPTOR_BYTES, VERDICT_ACCEPT, VERDICT_BYTES, VERDICT_REJECT } from '../../compiler/abi.js';
import type { CaptureIndex, CaptureRecord } from '../capture/read.js';
import { indexCaptureFile } from '../capture/read.js';
import { ACCEPT, DEFAULT_LIMITS, ERROR, type Filter, type PacketBatch } from '../engine/filter.js';
import { networkOffsetAt, type Layer } from '../capture/link.js';
import { BatchBuilder } from '../run/batch.js';
import { WasmFilter, writeDescriptor } from '../engine/wasm.js';

/** Packets of one capture, held in memory: a PacketBatch over all of them. */
export interface PacketSet extends PacketBatch {
  name: string;
  /** bytes of all packets as handed to the filter */
  totalBytes: number;
}

/** Builds a set from record objects (the built-in traffic); packets are copied contiguously. */
export function packetSetFromRecords(name: string, records: Iterable<CaptureRecord>, layer: Layer = 3): PacketSet {
  const list = Array.isArray(records) ? (records as CaptureRecord[]) : [...records];
  const batch = new BatchBuilder(list.length, 64 * 1024);
  for (const r of list) batch.addRecord(r, layer);
  const { bytes, used, offsets, lengths, count, timestampsSec, timestampsNsec } = batch;
  return { name, bytes: bytes.subarray(0, used), offsets, lengths, count, totalBytes: used, timestampsSec, timestampsNsec };
}

/**
 * A set over a columnar capture index: no copy and no object per packet, the
 * packets stay where the file's bytes are (offsets skip the link header).
 */
export function packetSetFromIndex(name: string, index: CaptureIndex, layer: Layer = 3): PacketSet {
  const n = index.count;
  const offsets = new Uint32Array(n);
  const lengths = new Uint32Array(n);
  let totalBytes = 0;
  for (let i = 0; i < n; i++) {
    const lt = index.linkType[i];
    const start = index.dataOffset[i];
    const len = index.capLen[i];
    const skip = networkOffsetAt(lt, index.bytes, start, len, layer);
    offsets[i] = start + skip;
    lengths[i] = len - skip;
    totalBytes += len - skip;
  }
  return {
    name, bytes: index.bytes, offsets, lengths, count: n, totalBytes,
    timestampsSec: index.tsSec, timestampsNsec: index.tsNsec,
    ...(layer === 2 ? { linkTypes: Uint32Array.from(index.linkType) } : {}),
  };
}

/**
 * A memory cap that fits every set given laid out in a module (descriptors,
 * verdict words, packets), plus the default cap's worth for the filter itself.
 */
export function memoryFor(...sets: PacketSet[]): number {
  return Math.max(0, ...sets.map((s) => s.bytes.length + s.count * (DESCRIPTOR_BYTES + VERDICT_BYTES))) + DEFAULT_LIMITS.memoryBytes;
}

/** Reads a capture file into a set (throws CaptureError / LinkTypeError). */
export function loadPacketSet(path: string, layer: Layer = 3, name = path): PacketSet {
  return packetSetFromIndex(name, indexCaptureFile(path), layer);
}

export interface BenchOptions {
  /** timed samples (default 5); the median is reported */
  samples?: number;
  /** minimum seconds per sample (default 1) */
  sampleSeconds?: number;
  /** seconds of warm-up at least before the first sample, then on until the rate settles (default 0.5; 0: none) */
  warmupSeconds?: number;
  /** packets per engine call (default 1024) */
  batchSize?: number;
  /** called after every sample (progress displays) */
  onSample?: (done: number, of: number) => void;
}

export interface BenchResult {
  capture: string;
  engine: string;
  /** worker threads used (absent: measured in the calling thread) */
  workers?: number;
  packets: number;
  accepted: number;
  errors: number;
  /** Mpps of each sample */
  samples: number[];
  medianMpps: number;
  minMpps: number;
  maxMpps: number;
  /** (max - min) / 2 / median, in percent */
  spreadPct: number;
  nsPerPacket: number;
  /**
   * Gbit/s of packet data offered to the filter at the median rate: whole
   * packets at the chosen layer, whether the filter reads 40 bytes of each
   * or all of them (the line rate this packet rate keeps up with), not a
   * rate of bytes read
   */
  offeredGbps: number;
  /** how the warm-up before the samples ended (absent: none was asked) */
  warmup?: WarmUpResult;
}

/** One pass over a set; returns accepted and errored counts. */
export type Pass = () => { accepted: number; errors: number; packets: number };

type PassCounts = ReturnType<Pass>;

/** The loop of every pass: `run` filters packets [start, start + n) and adds its accepts and errors to `into`. */
function passOver(count: number, batchSize: number, run: (start: number, n: number, into: PassCounts) => void): Pass {
  const batches = Math.ceil(count / batchSize);
  return () => {
    const into: PassCounts = { accepted: 0, errors: 0, packets: 0 };
    for (let b = 0; b < batches; b++) {
      const start = b * batchSize;
      const n = Math.min(batchSize, count - start);
      run(start, n, into);
      into.packets += n;
    }
    return into;
  };
}

/**
 * How a compiled filter's pass learns its accepts: `count` from the module
 * (filter_count, when the module has it), `words` from the verdict words
 * filter_batch writes (what `luapf run` reads).
 */
export type VerdictMode = 'count' | 'words';

/** Count-mode batches are this many times batchSize packets (they need no verdict area). */
const COUNT_BATCHES = 16;

/**
 * Lays the set out once in the module's memory: descriptors, a verdict area
 * per batch, then the packets, and returns a pass that makes one Wasm call
 * per batch and either lets the module count (VerdictMode) or counts the
 * verdict words in bulk.
 */
export function wasmPass(filter: WasmFilter, set: PacketSet, batchSize: number, verdicts: VerdictMode = 'count'): Pass {
  const descBytes = set.count * DESCRIPTOR_BYTES;
  // Only the bytes the packets span are copied (a capture's file headers are not needed but are small).
  let lo = set.count > 0 ? Infinity : 0;
  let hi = 0;
  for (let i = 0; i < set.count; i++) {
    if (set.offsets[i] < lo) lo = set.offsets[i];
    if (set.offsets[i] + set.lengths[i] > hi) hi = set.offsets[i] + set.lengths[i];
  }
  const span = Math.max(0, hi - lo);
  const base = filter.reserve(descBytes + batchSize * VERDICT_BYTES + span);
  const verdictBase = base + descBytes;
  const packetBase = verdictBase + batchSize * VERDICT_BYTES;
  new Uint8Array(filter.memory.buffer).set(set.bytes.subarray(lo, hi), packetBase);
  const u32 = new Uint32Array(filter.memory.buffer);
  for (let i = 0; i < set.count; i++) {
    writeDescriptor(u32, (base + i * DESCRIPTOR_BYTES) >>> 2, packetBase + set.offsets[i] - lo, set.lengths[i], set.timestampsSec[i], set.timestampsNsec[i]);
  }
  const words = new Uint32Array(filter.memory.buffer, verdictBase, batchSize);
  // A module whose filter cannot fail counts its accepts itself (filter_count): no verdict words to
  // write and read back, as libpcap's and pflua's loops only count. Its batches need no verdict area,
  // so they are longer: fewer calls from JS.
  if (verdicts === 'count' && filter.counts) {
    return passOver(set.count, batchSize * COUNT_BATCHES, (start, n, into) => {
      into.accepted += filter.countRaw(base + start * DESCRIPTOR_BYTES, n);
    });
  }
  return passOver(set.count, batchSize, (start, n, into) => {
    filter.runRaw(base + start * DESCRIPTOR_BYTES, verdictBase, n);
    // Without errors every word is 0 or 1 (reject, accept) and the sum is the accept count: no branch
    // per packet (accept and reject interleave unpredictably); an error word sends the batch to the slow count.
    let sum = 0;
    let high = 0;
    for (let i = 0; i < n; i++) {
      const w = words[i];
      sum += w;
      high |= w >>> 1;
    }
    if (high === 0) into.accepted += sum;
    else {
      for (let i = 0; i < n; i++) {
        const w = words[i];
        if (w === VERDICT_ACCEPT) into.accepted++;
        else if (w !== VERDICT_REJECT) into.errors++;
      }
    }
  });
}

/** A pass through Filter.filterBatch, over slices of the set's columns (no copy in the pass itself). */
export function genericPass(filter: Filter, set: PacketSet, batchSize: number): Pass {
  const verdicts = new Uint8Array(batchSize);
  const batch: PacketBatch = { ...set };
  return passOver(set.count, batchSize, (start, n, into) => {
    batch.offsets = set.offsets.subarray(start, start + n);
    batch.lengths = set.lengths.subarray(start, start + n);
    batch.timestampsSec = set.timestampsSec.subarray(start, start + n);
    batch.timestampsNsec = set.timestampsNsec.subarray(start, start + n);
    batch.count = n;
    filter.filterBatch(batch, verdicts);
    for (let i = 0; i < n; i++) {
      if (verdicts[i] === ACCEPT) into.accepted++;
      else if (verdicts[i] === ERROR) into.errors++;
    }
  });
}

export function makePass(filter: Filter, set: PacketSet, batchSize: number, verdicts: VerdictMode = 'count'): Pass {
  return filter instanceof WasmFilter ? wasmPass(filter, set, batchSize, verdicts) : genericPass(filter, set, batchSize);
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const now = () => Number(process.hrtime.bigint());

/** Runs passes for at least `ns` nanoseconds; returns packets done and the time taken. */
export function timePasses(pass: Pass, ns: number): { packets: number; elapsedNs: number } {
  let packets = 0;
  const start = now();
  let elapsed = 0;
  do {
    packets += pass().packets;
    elapsed = now() - start;
  } while (elapsed < ns);
  return { packets, elapsedNs: elapsed };
}

/** How a warm-up ended. */
export interface WarmUpResult {
  /** seconds it took */
  seconds: number;
  /** false: two consecutive slices never agreed within 10% before the time bound */
  settled: boolean;
}

const SLICE_NS = 50e6;
const SETTLED = 0.1;
const YIELD_MS = 10;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps this thread (Atomics.wait: also allowed on Node's main thread). */
function pause(ms: number): void {
  Atomics.wait(pauseCell, 0, 0, ms);
}

/**
 * Runs passes for at least `ns`, then on until two consecutive slices (50
 * ms, or one pass when a pass is longer) agree within 10%, for at most `ns`
 * + max(2 s, 10 ns). Wasm code starts in V8's baseline compiler and is
 * swapped for optimized code compiled by a background job; on a busy
 * machine that job waits for a core while this thread spins on baseline
 * code at a steady rate 10-20× too slow (measured: 2 s of it), which a
 * stability test alone takes for warm. So each slice is followed by a 10 ms
 * sleep that leaves the core to the background compiler. `ns` = 0: no
 * warm-up at all.
 */
export function warmUp(pass: Pass, ns: number): WarmUpResult {
  if (ns <= 0) return { seconds: 0, settled: false };
  const start = now();
  const deadline = start + ns + Math.max(2e9, 10 * ns);
  let previous = 0;
  for (;;) {
    const t = timePasses(pass, SLICE_NS);
    const rate = t.packets / t.elapsedNs;
    pause(YIELD_MS);
    const elapsed = now() - start;
    const agree = previous > 0 && Math.abs(rate - previous) <= SETTLED * Math.max(rate, previous);
    if (elapsed >= ns && agree) return { seconds: elapsed / 1e9, settled: true };
    if (now() > deadline) return { seconds: elapsed / 1e9, settled: false };
    previous = rate;
  }
}

/** Assembles a result from per-sample Mpps. */
export function summarize(
  set: PacketSet, engine: string, first: { accepted: number; errors: number }, mpps: number[], workers?: number, warmup?: WarmUpResult,
): BenchResult {
  const med = median(mpps);
  const min = Math.min(...mpps);
  const max = Math.max(...mpps);
  return {
    capture: set.name, engine, ...(workers !== undefined ? { workers } : {}),
    packets: set.count, accepted: first.accepted, errors: first.errors,
    samples: mpps, medianMpps: med, minMpps: min, maxMpps: max,
    spreadPct: med > 0 ? ((max - min) / 2 / med) * 100 : 0,
    nsPerPacket: med > 0 ? 1e3 / med : Infinity,
    offeredGbps: (med * 1e6 * (set.totalBytes / Math.max(1, set.count)) * 8) / 1e9,
    ...(warmup !== undefined ? { warmup } : {}),
  };
}

/**
 * Measures `filter` over `set` in this thread. Filters keep state across
 * packets, so every pass continues the same run; the accept count of the
 * first pass is the one reported (later passes may differ for stateful filters).
 */
export function benchFilter(filter: Filter, set: PacketSet, options: BenchOptions = {}): BenchResult {
  const samples = options.samples ?? 5;
  const sampleNs = (options.sampleSeconds ?? 1) * 1e9;
  const pass = makePass(filter, set, options.batchSize ?? 1024);
  const first = pass();
  const warmup = warmUp(pass, (options.warmupSeconds ?? 0.5) * 1e9);
  const mpps: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t = timePasses(pass, sampleNs);
    mpps.push((t.packets / t.elapsedNs) * 1e3);
    options.onSample?.(s + 1, samples);
  }
  return summarize(set, filter.engine, first, mpps, undefined, warmup);
}
