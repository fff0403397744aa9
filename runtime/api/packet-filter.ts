// The library's friendly layer: a PacketFilter that takes packets one at a
// time or in arrays and keeps counts, over the batch-oriented Filter that
// every engine implements. The on-error verdict and the counts follow the
// runner's policy (run/verdicts.ts). Nothing here imports the compiler
// unless a script has to be compiled.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCEPT, ERROR, type EngineName, type FilterError } from '../engine/filter.js';
import { networkOffset, networkOffsetFn } from '../capture/link.js';
import { loadEngine, type LoadedFilter } from '../engine/load.js';
import { scriptBytes } from '../engine/script-bytes.js';
import { resolveFilterOptions, OptionsError, type FilterOptions, type ResolvedFilterOptions } from './options.js';
import { VerdictPolicy, zeroCounts, type Counts } from '../run/verdicts.js';
import { WasmFilter, type ModuleInfo } from '../engine/wasm.js';
import { BatchBuilder } from '../run/batch.js';

/** A packet with its capture context, e.g. a record from readCapture. Only `data` is required. */
export interface PacketRecord {
  /** the captured bytes (a whole frame of `linkType`) */
  data: Uint8Array;
  /** LINKTYPE_* of the frame; default: the filter's `linkType` option */
  linkType?: number;
  /** capture time, seconds since the Unix epoch */
  tsSec?: number;
  /** nanoseconds within the second */
  tsNsec?: number;
}

/** What match and matchBatch take: bare bytes (of the `linkType` option) or a record. */
export type PacketInput = Uint8Array | PacketRecord;

/**
 * A capture time: seconds since the Unix epoch as a number (fractions
 * allowed, microsecond precision) or nanoseconds as a bigint (exact).
 */
export type Timestamp = number | bigint;

/** A filter call that failed for one packet: the script's error, with its position in the script. */
export class FilterRuntimeError extends Error {
  override name = 'FilterRuntimeError';
  /** the script's chunk name (usually its file name) */
  readonly file: string;
  /** 1-based line in the script, when known */
  readonly line: number | undefined;
  /** 1-based column in the script, when known */
  readonly column: number | undefined;
  /** the message without the position prefix */
  readonly detail: string;
  constructor(
    message: string,
    /**
     * the packet's number among those this filter has seen since it was
     * loaded (or since resetCounters), counting from 1 as tshark's
     * frame.number and `luapf run` do: `counters.packets` once it is counted
     */
    readonly packet: number,
  ) {
    super(message);
    const m = /^(.*?):(\d+)(?::(\d+))?: ([\s\S]*)$/.exec(message);
    const plain = /^(.*?): ([\s\S]*)$/.exec(message);
    this.file = m ? m[1] : plain ? plain[1] : '';
    this.line = m ? Number(m[2]) : undefined;
    this.column = m && m[3] !== undefined ? Number(m[3]) : undefined;
    this.detail = m ? m[4] : plain ? plain[2] : message;
  }
}

/** Counts of a PacketFilter since it was loaded (or since resetCounters). */
export type FilterCounters = Counts;

// Batches are cut by count and by bytes so one call never asks an engine
// for more than its memory cap allows.
const BATCH_PACKETS = 1024;
const BATCH_BYTES = 4 << 20;

/**
 * A loaded filter. `match` and `matchBatch` run the script's `filter(pkt)`
 * and return the verdict after the `onError` option is applied; errors are
 * counted, kept in `firstErrors`, and given to `onFilterError` listeners.
 * State (globals, tables) persists from one packet to the next.
 */
export class PacketFilter {
  /** the engine running the script */
  readonly engine: EngineName;
  /** why the script is not compiled (empty when it is, or when a .wasm was loaded) */
  readonly reasons: readonly string[];
  /** the module's self-description, when the engine is 'wasm' */
  readonly moduleInfo: ModuleInfo | undefined;
  /** the first `keepErrors` filter errors of this filter's life */
  readonly firstErrors: FilterRuntimeError[];
  private readonly policy: VerdictPolicy<FilterRuntimeError>;
  private readonly counts: Counts = zeroCounts();
  private readonly listeners: ((error: FilterRuntimeError) => void)[] = [];
  private readonly batch = new BatchBuilder(BATCH_PACKETS, 64 * 1024);
  private verdicts = new Uint8Array(BATCH_PACKETS);
  private closed = false;

  /** @internal use loadFilter or loadFilterFile */
  constructor(private readonly inner: LoadedFilter, private readonly options: ResolvedFilterOptions) {
    this.engine = inner.engine as EngineName;
    this.reasons = inner.reasons;
    this.moduleInfo = inner instanceof WasmFilter ? inner.info : undefined;
    this.policy = new VerdictPolicy(options.onError, options.keepErrors);
    this.firstErrors = this.policy.firstErrors;
  }

  /** A copy of the counts: every packet is accepted or rejected; `errors` counts failed calls (also in one of the two). */
  get counters(): FilterCounters {
    return { ...this.counts };
  }

  /** Sets the counts back to zero (firstErrors is kept). */
  resetCounters(): void {
    this.counts.packets = this.counts.accepted = this.counts.rejected = this.counts.errors = 0;
  }

  /** Calls `listener` for every packet whose filter call fails, before match/matchBatch returns. */
  onFilterError(listener: (error: FilterRuntimeError) => void): this {
    this.listeners.push(listener);
    return this;
  }

  /**
   * Runs the filter on one packet: true to accept. A record is stripped by
   * its own link type, bare bytes by the `linkType` option (default RAW:
   * the bytes are `pkt`). `timestamp` defaults to the record's, else 0.
   * Throws LinkTypeError for a link type layer 3 cannot strip.
   */
  match(packet: PacketInput, timestamp?: Timestamp): boolean {
    this.checkOpen();
    this.batch.reset();
    this.add(packet, timestamp);
    return this.flush(1, this.verdicts, 0) === 1;
  }

  /**
   * Runs the filter on each packet in order and returns one entry per
   * packet: 1 accepted, 0 rejected (a failed call counts as `onError`
   * says). One engine call handles many packets, so this is much faster
   * than calling match in a loop.
   */
  matchBatch(packets: readonly PacketInput[] | Iterable<PacketInput>): Uint8Array {
    this.checkOpen();
    const list = Array.isArray(packets) ? (packets as readonly PacketInput[]) : [...packets];
    const out = new Uint8Array(list.length);
    let start = 0;
    this.batch.reset();
    for (let i = 0; i < list.length; i++) {
      this.add(list[i]);
      if (this.batch.count === BATCH_PACKETS || this.batch.used >= BATCH_BYTES) {
        this.flush(this.batch.count, out, start);
        start += this.batch.count;
        this.batch.reset();
      }
    }
    if (this.batch.count > 0) this.flush(this.batch.count, out, start);
    this.batch.reset();
    return out;
  }

  /** Releases the engine; further calls throw. Calling it again does nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the filter is closed');
  }

  /** Appends a packet to the batch. */
  private add(packet: PacketInput, timestamp?: Timestamp): void {
    const isBytes = packet instanceof Uint8Array;
    const frame = isBytes ? packet : packet?.data;
    if (!(frame instanceof Uint8Array)) throw new TypeError('a packet is a Uint8Array or an object with a Uint8Array `data`');
    const linkType = isBytes || packet.linkType === undefined ? this.options.linkType : packet.linkType;
    const pkt = frame.subarray(networkOffset(linkType, frame, this.options.layer));
    let sec = isBytes ? 0 : packet.tsSec ?? 0;
    let nsec = isBytes ? 0 : packet.tsNsec ?? 0;
    if (typeof timestamp === 'bigint') {
      sec = Number(timestamp / 1_000_000_000n);
      nsec = Number(timestamp % 1_000_000_000n);
    } else if (typeof timestamp === 'number') {
      sec = Math.floor(timestamp);
      nsec = Math.round((timestamp - sec) * 1e6) * 1000;
    }
    this.batch.add(pkt, sec, nsec);
  }

  /** Runs the batch, writes 1/0 into out[start..], counts; returns the first verdict. */
  private flush(count: number, out: Uint8Array, start: number): number {
    if (this.verdicts.length < count) this.verdicts = new Uint8Array(count);
    const verdicts = this.verdicts;
    const errors: FilterError[] = this.inner.filterBatch(this.batch, verdicts);
    const messages = errors.length > 0 ? new Map(errors.map((e) => [e.index, e.message])) : undefined;
    for (let i = 0; i < count; i++) {
      let accepted = verdicts[i] === ACCEPT;
      if (verdicts[i] === ERROR) {
        // packets count from 1, as in luapf run and tshark's frame numbers
        const error = new FilterRuntimeError(messages?.get(i) ?? 'filter error', this.counts.packets + 1);
        accepted = this.policy.failed(this.counts, error);
        for (const listener of this.listeners) listener(error);
      }
      this.policy.count(this.counts, accepted);
      out[start + i] = accepted ? 1 : 0;
    }
    return out[start];
  }
}

/**
 * Loads a filter from a Lua script (text, or its bytes) or from a compiled
 * module (the bytes of a `.wasm` file, recognised by its magic number).
 * Compiles the script when `engine` is 'auto' or 'wasm'; only then is the
 * compiler (and binaryen) loaded. Throws OptionsError, ScriptError (syntax
 * or main-chunk error, with file:line:col), EngineUnavailableError,
 * ModuleFormatError or ModuleInitError.
 */
export async function loadFilter(script: string | Uint8Array, options?: FilterOptions): Promise<PacketFilter> {
  const o = resolveFilterOptions(options);
  if (typeof script !== 'string' && !(script instanceof Uint8Array)) {
    throw new TypeError('loadFilter takes the script text or the bytes of a .lua or .wasm file');
  }
  if (o.layer === 3) networkOffsetFn(o.linkType, 3); // an unstrippable default link type fails now, not per packet
  const inner = await loadEngine({
    source: typeof script === 'string' ? scriptBytes(script) : script,
    name: o.name ?? 'filter.lua',
    engine: o.engine,
    limits: { fuel: o.fuel, memoryBytes: o.memoryBytes },
  });
  return new PacketFilter(inner, o);
}

/**
 * Loads a filter from a `.lua` or `.wasm` file (path or file: URL). Error
 * messages name the file by its base name unless `name` is given.
 */
export async function loadFilterFile(path: string | URL, options?: FilterOptions): Promise<PacketFilter> {
  const file = path instanceof URL ? fileURLToPath(path) : path;
  if (typeof file !== 'string' || file === '') throw new OptionsError('path', path, 'a file path or file: URL');
  const bytes = readFileSync(file);
  return loadFilter(bytes, { ...options, name: options?.name ?? basename(file) });
}
