// Validation of the library's options: every public entry point checks its
// options up front and throws OptionsError naming the option, so a typo
// fails at the call site instead of deep inside an engine.
import { MAX_FUEL, MAX_PREFETCH } from '../../compiler/abi.js';
import { DEFAULT_LIMITS } from '../engine/filter.js';
import type { EngineChoice } from '../engine/load.js';
import { LINKTYPE, type Layer } from '../capture/link.js';
import type { OnError } from '../run/verdicts.js';

/** A bad option value given to the library (a RangeError, so `instanceof RangeError` works too). */
export class OptionsError extends RangeError {
  override name = 'OptionsError';
  constructor(
    /** the option's name, e.g. "fuel" */
    readonly option: string,
    /** the value that was given */
    readonly value: unknown,
    /** what the option accepts */
    readonly expected: string,
  ) {
    super(`invalid option ${option}: ${describe(value)} (expected ${expected})`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** Options shared by loadFilter and loadFilterFile. */
export interface FilterOptions {
  /** 'auto' (default): compiled when the script is in the subset, else the Lua interpreter; 'wasm' or 'lua' force one */
  engine?: EngineChoice;
  /** steps allowed per filter call: loop iterations and calls (compiled), VM instructions (interpreter); default 1,000,000 */
  fuel?: number;
  /** bytes of memory the filter may use (Lua state, or packets laid out in Wasm memory); default 64 MiB */
  memoryBytes?: number;
  /** the verdict of a packet whose filter call fails: 'drop' (default) or 'pass' */
  onError?: OnError;
  /** 3 (default): `pkt` is the network-layer packet; 2: the whole frame */
  layer?: Layer;
  /**
   * link type of the bare byte arrays given to match/matchBatch (records carry their own);
   * default 101 (RAW: the bytes already are the network-layer packet)
   */
  linkType?: number;
  /** the name used in error messages (default: the file's base name, or "filter.lua") */
  name?: string;
  /** error messages kept in `firstErrors` (default 10) */
  keepErrors?: number;
}

export interface ResolvedFilterOptions {
  engine: EngineChoice;
  fuel: number;
  memoryBytes: number;
  onError: OnError;
  layer: Layer;
  linkType: number;
  name: string | undefined;
  keepErrors: number;
}

export { MAX_FUEL };
const FUEL_RANGE = `an integer from 1 to ${MAX_FUEL}`;
const MIN_MEMORY = 64 * 1024;
const MAX_MEMORY = 4 * 1024 * 1024 * 1024;
const KNOWN = new Set(['engine', 'fuel', 'memoryBytes', 'onError', 'layer', 'linkType', 'name', 'keepErrors']);

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** The fuel option's value (default 1,000,000), checked: the one place both the library and the CLI validate it. */
export function checkFuel(value: unknown): number {
  const fuel = value ?? DEFAULT_LIMITS.fuel;
  if (!isInt(fuel, 1, MAX_FUEL)) throw new OptionsError('fuel', fuel, FUEL_RANGE);
  return fuel;
}

/**
 * Fuel written as text (`--fuel N`): decimal digits only, read exactly, so
 * `1.5`, `1e6` and `9007199254740993` (a double would read it as ...992) are
 * refused rather than rounded or wrapped.
 */
export function parseFuel(text: string): number {
  if (!/^[0-9]+$/.test(text) || BigInt(text) > BigInt(MAX_FUEL)) throw new OptionsError('fuel', text, FUEL_RANGE);
  return checkFuel(Number(text));
}

/** Checks every option and fills in the defaults; throws OptionsError. */
export function resolveFilterOptions(options: FilterOptions | undefined): ResolvedFilterOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new OptionsError('options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new OptionsError(key, (options as Record<string, unknown>)[key], `one of the options ${[...KNOWN].join(', ')}`);
  }
  const o = options;
  const engine = o.engine ?? 'auto';
  if (engine !== 'auto' && engine !== 'wasm' && engine !== 'lua') throw new OptionsError('engine', engine, "'auto', 'wasm' or 'lua'");
  const fuel = checkFuel(o.fuel);
  const memoryBytes = o.memoryBytes ?? DEFAULT_LIMITS.memoryBytes;
  if (!isInt(memoryBytes, MIN_MEMORY, MAX_MEMORY)) throw new OptionsError('memoryBytes', memoryBytes, 'an integer in 65536..4294967296');
  const onError = o.onError ?? 'drop';
  if (onError !== 'drop' && onError !== 'pass') throw new OptionsError('onError', onError, "'drop' or 'pass'");
  const layer = o.layer ?? 3;
  if (layer !== 2 && layer !== 3) throw new OptionsError('layer', layer, '2 or 3');
  const linkType = o.linkType ?? LINKTYPE.RAW;
  if (!isInt(linkType, 0, 0xffffffff)) throw new OptionsError('linkType', linkType, 'a LINKTYPE_* number');
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw new OptionsError('name', o.name, 'a non-empty string');
  const keepErrors = o.keepErrors ?? 10;
  if (!isInt(keepErrors, 0, 1_000_000)) throw new OptionsError('keepErrors', keepErrors, 'an integer in 0..1000000');
  return { engine, fuel, memoryBytes, onError, layer, linkType, name: o.name, keepErrors };
}

/** Options of compileFilter. */
export interface CompileFilterOptions {
  /** the chunk name used in messages and recorded in the module (default "filter.lua") */
  name?: string;
  /** 'auto' (default): report the Lua engine with reasons when the script is outside the subset; 'wasm': throw EngineUnavailableError instead */
  engine?: 'auto' | 'wasm';
  /** default per-call fuel recorded in the module (a host may change it); default 1,000,000 */
  fuel?: number;
  /** binaryen optimize level 0..3 (default 3) */
  optimize?: number;
  /** packets ahead the batch loop touches, 0..65535 (default: 16 for scripts reading at packet-computed offsets, else 0; docs/ABI.md) */
  prefetch?: number;
  /** also return the module as WebAssembly text */
  wat?: boolean;
}

export function resolveCompileOptions(options: CompileFilterOptions | undefined): Required<Omit<CompileFilterOptions, 'name' | 'prefetch'>> & { name: string; prefetch?: number } {
  const o = options ?? {};
  if (typeof o !== 'object') throw new OptionsError('options', o, 'an object');
  const engine = o.engine ?? 'auto';
  if (engine !== 'auto' && engine !== 'wasm') throw new OptionsError('engine', engine, "'auto' or 'wasm'");
  const fuel = checkFuel(o.fuel);
  const optimize = o.optimize ?? 3;
  if (!isInt(optimize, 0, 3)) throw new OptionsError('optimize', optimize, 'an integer in 0..3');
  const name = o.name ?? 'filter.lua';
  if (typeof name !== 'string' || name === '') throw new OptionsError('name', name, 'a non-empty string');
  const prefetch = o.prefetch;
  if (prefetch !== undefined && !isInt(prefetch, 0, MAX_PREFETCH)) throw new OptionsError('prefetch', prefetch, `an integer in 0..${MAX_PREFETCH}`);
  return { engine, fuel, optimize, name, wat: o.wat === true, prefetch };
}
