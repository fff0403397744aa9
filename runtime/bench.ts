// Throughput measurement: packets held in memory, a warm-up, then several
// timed samples; the figure reported is the median. Compiled filters run on
// packets laid out once in their own memory (no copy per run), so what is
// timed is the filter and the batch loop, as in pflua-bench.
import type { CaptureRecord } from './capture.js';
import { ACCEPT, ERROR, type Filter, type PacketBatch } from './filter.js';
import { networkOffset } from './link.js';
import { WasmFilter } from './wasm-engine.js';

/** Packets of one capture, contiguous in memory: a PacketBatch over all of them. */
export interface PacketSet extends PacketBatch {
  name: string;
  /** bytes of all packets as handed to the filter */
  totalBytes: number;
}

export function packetSetFromRecords(name: string, records: Iterable<CaptureRecord>, layer: 2 | 3 = 3): PacketSet {
  const packets: Uint8Array[] = [];
  const sec: number[] = [];
  const nsec: number[] = [];
  let totalBytes = 0;
  for (const r of records) {
    const p = r.data.subarray(networkOffset(r.linkType, r.data, layer));
    packets.push(p);
    sec.push(r.tsSec);
    nsec.push(r.tsNsec);
    totalBytes += p.length;
  }
  const bytes = new Uint8Array(totalBytes);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let at = 0;
  packets.forEach((p, i) => {
    bytes.set(p, at);
    offsets[i] = at;
    lengths[i] = p.length;
    at += p.length;
  });
  return {
    name, bytes, offsets, lengths, count: packets.length, totalBytes,
    timestampsSec: Float64Array.from(sec), timestampsNsec: Uint32Array.from(nsec),
  };
}

export interface BenchOptions {
  /** timed samples (default 5); the median is reported */
  samples?: number;
  /** minimum seconds per sample (default 1) */
  sampleSeconds?: number;
  /** seconds of warm-up before the first sample (default 0.5) */
  warmupSeconds?: number;
  /** packets per engine call (default 1024) */
  batchSize?: number;
}

export interface BenchResult {
  capture: string;
  engine: string;
  packets: number;
  accepted: number;
  errors: number;
  /** Mpps of each sample */
  samples: number[];
  medianMpps: number;
  minMpps: number;
  maxMpps: number;
  nsPerPacket: number;
  gbps: number;
}

/** One pass over the whole set; returns accepted and errored counts. */
type Pass = () => { accepted: number; errors: number };

function wasmPass(filter: WasmFilter, set: PacketSet, batchSize: number): Pass {
  // Lay out descriptors, a verdict area and the packets once.
  const descBytes = set.count * 16;
  const base = filter.reserve(descBytes + batchSize * 4 + set.totalBytes);
  const verdictBase = base + descBytes;
  const packetBase = verdictBase + batchSize * 4;
  new Uint8Array(filter.memory.buffer).set(set.bytes.subarray(0, set.totalBytes), packetBase);
  const view = new DataView(filter.memory.buffer);
  for (let i = 0; i < set.count; i++) {
    view.setUint32(base + i * 16, packetBase + set.offsets[i], true);
    view.setUint32(base + i * 16 + 4, set.lengths[i], true);
    view.setBigInt64(base + i * 16 + 8,
      BigInt(set.timestampsSec[i]) * 1_000_000_000n + BigInt(set.timestampsNsec[i]), true);
  }
  const verdicts = new Uint8Array(batchSize);
  return () => {
    let accepted = 0;
    let errors = 0;
    for (let start = 0; start < set.count; start += batchSize) {
      const n = Math.min(batchSize, set.count - start);
      filter.runResident(base + start * 16, verdictBase, n, verdicts);
      for (let i = 0; i < n; i++) {
        if (verdicts[i] === ACCEPT) accepted++;
        else if (verdicts[i] === ERROR) errors++;
      }
    }
    return { accepted, errors };
  };
}

function genericPass(filter: Filter, set: PacketSet, batchSize: number): Pass {
  const verdicts = new Uint8Array(batchSize);
  const batch: PacketBatch = { ...set };
  return () => {
    let accepted = 0;
    let errors = 0;
    for (let start = 0; start < set.count; start += batchSize) {
      const n = Math.min(batchSize, set.count - start);
      batch.offsets = set.offsets.subarray(start, start + n);
      batch.lengths = set.lengths.subarray(start, start + n);
      batch.timestampsSec = set.timestampsSec.subarray(start, start + n);
      batch.timestampsNsec = set.timestampsNsec.subarray(start, start + n);
      batch.count = n;
      filter.filterBatch(batch, verdicts);
      for (let i = 0; i < n; i++) {
        if (verdicts[i] === ACCEPT) accepted++;
        else if (verdicts[i] === ERROR) errors++;
      }
    }
    return { accepted, errors };
  };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Measures `filter` over `set`. Filters keep state across packets, so every
 * pass continues the same run; the accept count of the first pass is the one
 * reported (later passes may differ for stateful filters).
 */
export function benchFilter(filter: Filter, set: PacketSet, options: BenchOptions = {}): BenchResult {
  const samples = options.samples ?? 5;
  const sampleNs = (options.sampleSeconds ?? 1) * 1e9;
  const warmupNs = (options.warmupSeconds ?? 0.5) * 1e9;
  const batchSize = options.batchSize ?? 1024;
  const pass = filter instanceof WasmFilter ? wasmPass(filter, set, batchSize) : genericPass(filter, set, batchSize);

  const first = pass();
  const now = () => Number(process.hrtime.bigint());
  const warmEnd = now() + warmupNs;
  while (now() < warmEnd) pass();

  const mpps: number[] = [];
  for (let s = 0; s < samples; s++) {
    let packets = 0;
    const start = now();
    let elapsed = 0;
    do {
      pass();
      packets += set.count;
      elapsed = now() - start;
    } while (elapsed < sampleNs);
    mpps.push((packets / elapsed) * 1e3);
  }
  const med = median(mpps);
  return {
    capture: set.name,
    engine: filter.engine,
    packets: set.count,
    accepted: first.accepted,
    errors: first.errors,
    samples: mpps,
    medianMpps: med,
    minMpps: Math.min(...mpps),
    maxMpps: Math.max(...mpps),
    nsPerPacket: 1e3 / med,
    gbps: (med * 1e6 * (set.totalBytes / Math.max(1, set.count)) * 8) / 1e9,
  };
}
