// The contract every engine keeps: a Filter takes batches of packets and
// returns one verdict code per packet. Mapping errors to accept/reject
// (--on-error) and counting them is the runner's job (run/verdicts.ts), not
// the engine's.

// Verdict codes written per packet by `Filter.filterBatch` (a compiled
// module's own verdict words are compiler/abi.ts's).
/** filter() returned nil or false */
export const REJECT = 0;
/** filter() returned any other value */
export const ACCEPT = 1;
/** the call failed: a runtime error, exhausted fuel or memory, a trap */
export const ERROR = 2;
export type VerdictCode = typeof REJECT | typeof ACCEPT | typeof ERROR;

/** 'wasm' (compiled) or 'lua' (interpreted). */
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
  /** each packet's LINKTYPE_* where the batch was built from capture records (the Lunatik engine needs it) */
  linkTypes?: Uint32Array;
  /** each packet's direction where its capture says (pcapng epb_flags bits 0-1: 1 inbound, 2 outbound, 0 unknown) */
  directions?: Uint8Array;
}

/** A runtime error raised by the script for one packet. */
export interface FilterError {
  /** index of the packet in the batch */
  index: number;
  /** "CHUNK:LINE:COL: message" where the position is known, else "CHUNK: message" */
  message: string;
}

/** The parts of a FilterError message (or any "FILE:LINE[:COL]: message" text). */
export interface ErrorPosition {
  file?: string;
  line?: number;
  column?: number;
  /** the message without the position prefix */
  detail: string;
}

/** Splits "CHUNK:LINE:COL: message", "CHUNK:LINE: message" or "CHUNK: message". */
export function splitErrorMessage(message: string): ErrorPosition {
  const m = /^(.*?):(\d+)(?::(\d+))?: ([\s\S]*)$/.exec(message);
  if (m) return { file: m[1], line: Number(m[2]), ...(m[3] !== undefined ? { column: Number(m[3]) } : {}), detail: m[4] };
  const plain = /^(.*?): ([\s\S]*)$/.exec(message);
  return plain ? { file: plain[1], detail: plain[2] } : { detail: message };
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

/** An engine running one script: batches in, one verdict code per packet out. */
export interface Filter {
  /** 'baseline' marks hand-written reference filters of the benchmark */
  readonly engine: EngineName | 'baseline';
  /** the layer this engine must be fed at whatever the run's option (2: the Lunatik engine wants frames) */
  readonly layer?: 2 | 3;
  /**
   * Runs filter(pkt) once per packet of the batch, in order, writing
   * REJECT/ACCEPT/ERROR into `verdicts[0..count)`. Returns the errors (one per
   * ERROR verdict). Never throws for a script error: only for misuse.
   */
  filterBatch(batch: PacketBatch, verdicts: Uint8Array): FilterError[];
  /**
   * Optional zero-copy path: an engine whose packets live in its own linear
   * memory returns the handle the runner lays packets into (runtime/run/run.ts
   * then reads captures straight into that memory). Engines without one,
   * or returning undefined, get batches through filterBatch.
   */
  resident?(): ResidentFilter | undefined;
  /** Releases the engine's resources; the filter cannot be used afterwards. */
  close(): void;
}

/**
 * A filter driven in place (docs/ABI.md): the host writes 16-byte packet
 * descriptors and the packets into `memory` from `reserve`'s start, and the
 * engine leaves one raw verdict word per packet (0 reject, 1 accept, 2 + site
 * error, 0xffffffff trap: compiler/abi.ts names them).
 */
export interface ResidentFilter {
  readonly memory: WebAssembly.Memory;
  /** bytes the host may lay out from reserve()'s start at most (the memory cap less the module's own) */
  readonly residentCapacity: number;
  /** grows memory so that `bytes` bytes are usable; returns the region's start (16-aligned, stable) */
  reserve(bytes: number): number;
  /** runs `count` packets; a trap's packet gets 0xffffffff and, when `traps` is given, its message there */
  runRaw(descBase: number, verdictBase: number, count: number, traps?: FilterError[]): number;
  /** "source:line:col: message" of an error word (2 + site) */
  describeError(verdict: number): string;
}
