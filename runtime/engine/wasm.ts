// Runs a compiled filter module (docs/ABI.md) without the compiler: only
// WebAssembly and the module's own self-description are needed here.
import {
  ABI_VERSION, DESCRIPTOR_BYTES, DESCRIPTOR_LENGTH, DESCRIPTOR_OFFSET, DESCRIPTOR_TIME, HOST_ALIGN, PAGE_BYTES, SECTION_NAME,
  VERDICT_ACCEPT, VERDICT_BYTES, VERDICT_ERROR, VERDICT_REJECT, VERDICT_TRAPPED,
} from '../../compiler/abi.js';
import {
  ACCEPT, DEFAULT_LIMITS, ERROR, REJECT,
  type Filter, type FilterError, type FilterLimits, type PacketBatch, type ResidentFilter,
} from './filter.js';

// the descriptor's fields as 32-bit words
const W_OFFSET = DESCRIPTOR_OFFSET >>> 2;
const W_LENGTH = DESCRIPTOR_LENGTH >>> 2;
const W_TIME = DESCRIPTOR_TIME >>> 2;

/**
 * Writes one 16-byte descriptor (docs/ABI.md) at 32-bit word `w` of `u32`
 * (the module's memory): packet address, length, and the capture time as
 * i64 nanoseconds. While 0 <= sec < 2^32 the two time words are computed
 * without a BigInt, splitting the products on 16 bits so every double stays
 * exact; this runs once per packet.
 */
export function writeDescriptor(u32: Uint32Array, w: number, address: number, length: number, sec: number, nsec: number): void {
  u32[w + W_OFFSET] = address;
  u32[w + W_LENGTH] = length;
  if (sec >= 0 && sec < 0x100000000) {
    const a = Math.floor(sec / 65536);
    const p = a * 1_000_000_000;
    const pHi = Math.floor(p / 65536);
    const acc = (p - pHi * 65536) * 65536 + (sec - a * 65536) * 1_000_000_000 + nsec;
    const carry = Math.floor(acc / 0x100000000);
    u32[w + W_TIME] = acc - carry * 0x100000000;
    u32[w + W_TIME + 1] = pHi + carry;
  } else {
    const v = BigInt.asUintN(64, BigInt(sec) * 1_000_000_000n + BigInt(nsec));
    u32[w + W_TIME] = Number(v & 0xffffffffn);
    u32[w + W_TIME + 1] = Number(v >> 32n);
  }
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** True when `bytes` start as a WebAssembly module does (a `.wasm` rather than a script). */
export function isWasmModule(bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((b, i) => bytes[i] === b);
}

/** The `luapf` custom section of a compiled module. */
export interface ModuleInfo {
  abi: number;
  compiler: string;
  source: string;
  sourceHash: string;
  options: Record<string, unknown>;
  memory: { minPages: number };
  errors: { message: string; line: number; column: number }[];
}

/** Not a WebAssembly module, not a luapf filter module, or one of another ABI version. */
export class ModuleFormatError extends Error {
  override name = 'ModuleFormatError';
  constructor(
    message: string,
    /** the file (or name) the module was loaded from, when known; the message starts with it */
    readonly file?: string,
  ) {
    super(message);
  }
}

/** A module's self-description; throws ModuleFormatError when it has none or speaks another ABI version. */
export function readModuleInfo(module: WebAssembly.Module): ModuleInfo {
  const sections = WebAssembly.Module.customSections(module, SECTION_NAME);
  if (sections.length !== 1) {
    throw new ModuleFormatError(`not a luapf filter module: no "${SECTION_NAME}" custom section`);
  }
  let info: ModuleInfo;
  try {
    info = JSON.parse(new TextDecoder().decode(sections[0]));
  } catch (e) {
    throw new ModuleFormatError(`corrupt "${SECTION_NAME}" custom section: ${(e as Error).message}`);
  }
  if (info.abi !== ABI_VERSION) {
    throw new ModuleFormatError(`module has ABI version ${info.abi}; this runtime speaks ${ABI_VERSION}`);
  }
  return info;
}

interface FilterExports {
  init(): number;
  filter_batch(descs: number, count: number, verdicts: number): number;
  heap_base: WebAssembly.Global;
  cursor: WebAssembly.Global;
  fuel_limit: WebAssembly.Global;
}

/** Thrown when the script's main chunk fails while the module is instantiated. */
export class ModuleInitError extends Error {
  override name = 'ModuleInitError';
}

/** The compiled engine: one instance of a module, its memory capped by the limits. */
export class WasmFilter implements Filter, ResidentFilter {
  readonly engine = 'wasm' as const;
  readonly info: ModuleInfo;
  readonly memory: WebAssembly.Memory;
  private readonly exports: FilterExports;
  private readonly heapBase: number;
  private readonly maxPages: number;
  private closed = false;

  /** bytes of the module, when it was given as bytes */
  readonly size: number | undefined;

  constructor(bytesOrModule: Uint8Array | WebAssembly.Module, limits: Partial<FilterLimits> = {}, size?: number) {
    this.size = bytesOrModule instanceof Uint8Array ? bytesOrModule.length : size;
    const module = bytesOrModule instanceof WebAssembly.Module
      ? bytesOrModule
      : new WebAssembly.Module(bytesOrModule as Uint8Array<ArrayBuffer>);
    this.info = readModuleInfo(module);
    const { fuel, memoryBytes } = { ...DEFAULT_LIMITS, ...limits };
    const minPages = this.info.memory.minPages;
    // The cap bounds what the host may lay out; the module's own state is fixed-size.
    this.maxPages = Math.max(minPages, Math.ceil(memoryBytes / PAGE_BYTES));
    this.memory = new WebAssembly.Memory({ initial: minPages, maximum: this.maxPages });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as FilterExports;
    // Descriptors hold i64 timestamps and verdicts are u32 words: keep them aligned.
    this.heapBase = Math.ceil((this.exports.heap_base.value as number) / HOST_ALIGN) * HOST_ALIGN;
    this.exports.fuel_limit.value = fuel;
    const status = this.exports.init();
    if (status !== 0) throw new ModuleInitError(this.describeError(status));
  }

  /** "source:line:col: message" for an error verdict (2 + site). */
  describeError(verdict: number): string {
    const site = this.info.errors[verdict - VERDICT_ERROR];
    if (!site) return `${this.info.source}: unknown runtime error ${verdict}`;
    return site.line > 0
      ? `${this.info.source}:${site.line}:${site.column}: ${site.message}`
      : `${this.info.source}: ${site.message}`;
  }

  /** Grows memory so that `bytes` bytes are usable from heap_base; returns that region's start. */
  reserve(bytes: number): number {
    const needPages = Math.ceil((this.heapBase + bytes) / PAGE_BYTES);
    const havePages = this.memory.buffer.byteLength / PAGE_BYTES;
    if (needPages > havePages) {
      if (needPages > this.maxPages) {
        throw new RangeError(`batch needs ${needPages} pages; memory cap is ${this.maxPages}`);
      }
      this.memory.grow(needPages - havePages);
    }
    return this.heapBase;
  }

  filterBatch(batch: PacketBatch, verdicts: Uint8Array): FilterError[] {
    this.checkOpen('filterBatch');
    const { count } = batch;
    if (verdicts.length < count) throw new RangeError('WasmFilter: verdicts array shorter than batch.count');
    let payloadBytes = 0;
    for (let i = 0; i < count; i++) {
      // a packet outside batch.bytes would be silently cut by subarray: refuse it
      if (batch.offsets[i] + batch.lengths[i] > batch.bytes.length) {
        throw new RangeError(`WasmFilter: packet ${i} lies outside batch.bytes`);
      }
      payloadBytes += batch.lengths[i];
    }
    const descBase = this.reserve(count * (DESCRIPTOR_BYTES + VERDICT_BYTES) + payloadBytes);
    const verdictBase = descBase + count * DESCRIPTOR_BYTES;
    let packetAt = verdictBase + count * VERDICT_BYTES;
    const mem = new Uint8Array(this.memory.buffer);
    const u32 = new Uint32Array(this.memory.buffer);
    for (let i = 0; i < count; i++) {
      const length = batch.lengths[i];
      const offset = batch.offsets[i];
      mem.set(batch.bytes.subarray(offset, offset + length), packetAt);
      writeDescriptor(u32, (descBase + i * DESCRIPTOR_BYTES) >>> 2, packetAt, length, batch.timestampsSec[i], batch.timestampsNsec[i]);
      packetAt += length;
    }
    return this.runResident(descBase, verdictBase, count, verdicts);
  }

  /**
   * Runs packets whose descriptors are already in this module's memory and
   * leaves the raw verdict words there (0, 1, 2 + site; 0xffffffff for a
   * trap), translating nothing: the hot path of the benchmark and of the
   * zero-copy runner, which read the words in bulk. Returns how many
   * packets trapped.
   */
  runRaw(descBase: number, verdictBase: number, count: number, trapped?: FilterError[]): number {
    let done = 0;
    let traps = 0;
    while (done < count) {
      try {
        this.exports.filter_batch(descBase + done * DESCRIPTOR_BYTES, count - done, verdictBase + done * VERDICT_BYTES);
        break;
      } catch (e) {
        // A trap aborts the whole call: the packet at `cursor` failed, the ones before it are done.
        const failed = done + (this.exports.cursor.value as number);
        new DataView(this.memory.buffer).setUint32(verdictBase + failed * VERDICT_BYTES, VERDICT_TRAPPED, true);
        trapped?.push({ index: failed, message: `${this.info.source}: trap: ${(e as Error).message}` });
        traps++;
        done = failed + 1;
      }
    }
    return traps;
  }

  /**
   * Runs packets whose descriptors are already in this module's memory and
   * translates the verdict words into verdict codes (filterBatch's last step).
   */
  runResident(descBase: number, verdictBase: number, count: number, verdicts: Uint8Array): FilterError[] {
    this.checkOpen('runResident');
    const errors: FilterError[] = [];
    this.runRaw(descBase, verdictBase, count, errors);
    const words = new Uint32Array(this.memory.buffer, verdictBase, count);
    for (let i = 0; i < count; i++) {
      const w = words[i];
      if (w === VERDICT_REJECT) verdicts[i] = REJECT;
      else if (w === VERDICT_ACCEPT) verdicts[i] = ACCEPT;
      else {
        verdicts[i] = ERROR;
        if (w !== VERDICT_TRAPPED) errors.push({ index: i, message: this.describeError(w) });
      }
    }
    return errors.sort((a, b) => a.index - b.index);
  }

  /** Bytes from reserve()'s start that the memory cap allows the host to use. */
  get residentCapacity(): number {
    return this.maxPages * PAGE_BYTES - this.heapBase;
  }

  /** The zero-copy path of the runner (run/resident.ts): this module's memory, driven in place. */
  resident(): ResidentFilter | undefined {
    return this.closed ? undefined : this;
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new Error(`WasmFilter: ${what} after close()`);
  }

  /** The instance and its memory are freed by the GC once the caller drops the filter. */
  close(): void {
    this.closed = true;
  }
}
