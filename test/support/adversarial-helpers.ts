// Shared by the adversarial, bounds, isolation and table tests: batches
// (with canary bytes between packets if asked), and one script run on both
// engines.
import { compile } from '../../compiler/index.js';
import type { FilterError, FilterLimits, PacketBatch } from '../../runtime/engine/filter.js';
import { createLuaFilter, type LuaFilter } from '../../runtime/engine/lua.js';
import { WasmFilter } from '../../runtime/engine/wasm.js';

export const CANARY = 0xaa;

/** Packets in one byte array, each followed by `gap` canary bytes (0xAA, 0xAB, …), all captured at `tsSec`. */
export function batchOf(packets: Uint8Array[], gap = 0, tsSec = 0): PacketBatch {
  const total = packets.reduce((n, p) => n + p.length + gap, 0);
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let pos = 0;
  packets.forEach((p, i) => {
    bytes.set(p, pos);
    offsets[i] = pos;
    lengths[i] = p.length;
    pos += p.length;
    for (let k = 0; k < gap; k++) bytes[pos++] = (CANARY + k) & 0xff;
  });
  const n = packets.length;
  return { bytes, offsets, lengths, count: n, timestampsSec: new Float64Array(n).fill(tsSec), timestampsNsec: new Uint32Array(n) };
}

export interface Outcome {
  v: number[];
  errors: FilterError[];
}

export function runFilter(f: { filterBatch(b: PacketBatch, v: Uint8Array): FilterError[] }, packets: Uint8Array[], gap = 0): Outcome {
  const verdicts = new Uint8Array(packets.length);
  const errors = f.filterBatch(batchOf(packets, gap), verdicts);
  return { v: Array.from(verdicts), errors };
}

/** Compiles `src` (must be in the compiled subset) into a WasmFilter. */
export async function wasmFilter(src: string, file = 'test.lua', limits: Partial<FilterLimits> = {}): Promise<WasmFilter> {
  const r = await compile(src, { file, fuel: limits.fuel });
  if (!r.ok) throw new Error(`${file} does not compile:\n${r.reasons.join('\n')}`);
  return new WasmFilter(r.wasm, limits);
}

export const luaFilter = (src: string, file = 'test.lua', limits: Partial<FilterLimits> = {}): Promise<LuaFilter> =>
  createLuaFilter(src, file, limits, { print: () => {} });

export const bytes = (...b: number[]) => Uint8Array.from(b);
