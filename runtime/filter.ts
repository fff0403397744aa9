// The contract every engine keeps: a Filter takes batches of packets and
// returns one verdict code per packet. Mapping errors to accept/reject
// (--on-error) and counting them is the runner's job, not the engine's.

/** Verdict codes written per packet by `Filter.filterBatch`. */
export const REJECT = 0;
export const ACCEPT = 1;
export const ERROR = 2;
export type VerdictCode = typeof REJECT | typeof ACCEPT | typeof ERROR;

export type EngineName = 'wasm' | 'lua';

/**
 * A batch of packets laid out in one byte array: packet i is
 * `bytes.subarray(offsets[i], offsets[i] + lengths[i])`, captured at
 * `timestampsSec[i]` seconds plus `timestampsNsec[i]` nanoseconds (two
 * fields: a float64 of nanoseconds since the epoch would not be exact).
 */
export interface PacketBatch {
  bytes: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  /** seconds part of the capture timestamp */
  timestampsSec: Float64Array;
  /** nanoseconds within the second, 0..999_999_999 */
  timestampsNsec: Uint32Array;
  count: number;
}

/** A runtime error raised by the script for one packet. */
export interface FilterError {
  /** index of the packet in the batch */
  index: number;
  /** "CHUNK:LINE:COL: message" where the position is known, else "CHUNK: message" */
  message: string;
}

export interface FilterLimits {
  /** steps per call of filter(): loop iterations and calls (compiled), VM instructions (interpreter) */
  fuel: number;
  /** bytes of memory the script may hold */
  memoryBytes: number;
}

export const DEFAULT_LIMITS: FilterLimits = {
  fuel: 1_000_000,
  memoryBytes: 64 * 1024 * 1024,
};

export interface Filter {
  /** 'baseline' marks hand-written reference filters of the benchmark */
  readonly engine: EngineName | 'baseline';
  /**
   * Runs filter(pkt) once per packet of the batch, in order, writing
   * REJECT/ACCEPT/ERROR into `verdicts[0..count)`. Returns the errors (one per
   * ERROR verdict). Never throws for a script error: only for misuse.
   */
  filterBatch(batch: PacketBatch, verdicts: Uint8Array): FilterError[];
  /** Releases the engine's resources; the filter cannot be used afterwards. */
  close(): void;
}
