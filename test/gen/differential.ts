// Runs one script on both engines over a packet sequence and compares the
// verdicts call by call. Shared by the property test, the regression test
// and the fuzzer (bench/fuzz.ts); also reads and writes the reproducer
// format of test/regressions/.
import { compile } from '../../compiler/index.js';
import { ACCEPT, ERROR, REJECT, type PacketBatch } from '../../runtime/engine/filter.js';
import { createLuaFilter } from '../../runtime/engine/lua.js';
import { WasmFilter } from '../../runtime/engine/wasm.js';

export const VERDICT_NAME: Record<number, string> = { [REJECT]: 'reject', [ACCEPT]: 'accept', [ERROR]: 'error' };

/** Packets laid out as a batch, each one repeated `times` times in a row. */
export function repeatedBatch(packets: readonly Uint8Array[], times: number): PacketBatch {
  const count = packets.length * times;
  const total = packets.reduce((s, p) => s + p.length, 0);
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count);
  let at = 0;
  let k = 0;
  for (const p of packets) {
    bytes.set(p, at);
    for (let t = 0; t < times; t++, k++) {
      offsets[k] = at;
      lengths[k] = p.length;
    }
    at += p.length;
  }
  return { bytes, offsets, lengths, count, timestampsSec: new Float64Array(count), timestampsNsec: new Uint32Array(count) };
}

export type Outcome =
  | { kind: 'uncompiled'; reasons: string[] }
  | { kind: 'agree'; calls: number; counts: [number, number, number] }
  | { kind: 'disagree'; calls: number; first: Mismatch; mismatches: number }
  /** an engine threw (not a per-packet error): always a bug of one side or the other */
  | { kind: 'crash'; engine: 'wasm' | 'lua' | 'compiler'; message: string };

export interface Mismatch {
  /** index of the call */
  call: number;
  /** index of the packet in the input list */
  packet: number;
  lua: string;
  wasm: string;
  luaError?: string;
  wasmError?: string;
}

export interface DiffOptions {
  name?: string;
  fuel?: number;
  optimize?: number;
  /** the compiled module's heap semispace (compile option heapMemory): small ones collect often */
  heapMemory?: number;
}

/** Compiles `source`, runs it on both engines (each packet `times` times) and compares. */
export async function differential(source: string, packets: readonly Uint8Array[], times: number, opts: DiffOptions = {}): Promise<Outcome> {
  const name = opts.name ?? 'prop.lua';
  const fuel = opts.fuel ?? 1_000_000;
  let wasmBytes: Uint8Array;
  try {
    const r = await compile(source, { file: name, fuel, optimize: opts.optimize, heapMemory: opts.heapMemory });
    if (!r.ok) {
      // a failure past the checker is a compiler bug, not a script outside the subset
      if (r.stage === 'ir' || r.stage === 'wasm') return { kind: 'crash', engine: 'compiler', message: r.reasons.join('\n') };
      return { kind: 'uncompiled', reasons: r.reasons };
    }
    wasmBytes = r.wasm;
  } catch (e) {
    return { kind: 'crash', engine: 'compiler', message: String((e as Error).stack ?? e) };
  }
  const batch = repeatedBatch(packets, times);
  const vw = new Uint8Array(batch.count);
  const vl = new Uint8Array(batch.count);
  let ew: Map<number, string>;
  let el: Map<number, string>;
  try {
    const w = new WasmFilter(wasmBytes, { fuel });
    try {
      ew = new Map(w.filterBatch(batch, vw).map((e) => [e.index, e.message]));
    } finally {
      w.close();
    }
  } catch (e) {
    return { kind: 'crash', engine: 'wasm', message: String((e as Error).message ?? e) };
  }
  try {
    const l = await createLuaFilter(source, name, { fuel });
    try {
      el = new Map(l.filterBatch(batch, vl).map((e) => [e.index, e.message]));
    } finally {
      l.close();
    }
  } catch (e) {
    return { kind: 'crash', engine: 'lua', message: String((e as Error).message ?? e) };
  }
  const counts: [number, number, number] = [0, 0, 0];
  let first: Mismatch | undefined;
  let mismatches = 0;
  for (let i = 0; i < batch.count; i++) {
    counts[vl[i]]++;
    if (vw[i] !== vl[i]) {
      mismatches++;
      first ??= {
        call: i, packet: Math.floor(i / times), lua: VERDICT_NAME[vl[i]], wasm: VERDICT_NAME[vw[i]],
        luaError: el.get(i), wasmError: ew.get(i),
      };
    }
  }
  if (first) return { kind: 'disagree', calls: batch.count, first, mismatches };
  return { kind: 'agree', calls: batch.count, counts };
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'uncompiled': return `not compiled: ${o.reasons.slice(0, 3).join('; ')}`;
    case 'agree': return `agree over ${o.calls} calls`;
    case 'crash': return `${o.engine} crashed: ${o.message}`;
    case 'disagree': {
      const m = o.first;
      return `${o.mismatches}/${o.calls} calls disagree; first: call ${m.call} (packet ${m.packet}): lua ${m.lua}` +
        `${m.luaError ? ` (${m.luaError})` : ''}, wasm ${m.wasm}${m.wasmError ? ` (${m.wasmError})` : ''}`;
    }
  }
}

// ---- reproducer files -------------------------------------------------------------

export interface Reproducer {
  source: string;
  packets: Uint8Array[];
  /** calls per packet */
  times: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * A regression file: the script with a header of `--` comments saying how
 * to run it (Lua ignores them): `-- repeat: N` and one `-- packet: HEX` line
 * per packet, in order.
 */
export function formatReproducer(r: Reproducer, note: string[] = []): string {
  return [
    '-- luapf regression: run each packet `repeat` times in a row on both engines; verdicts must agree',
    ...note.map((l) => `-- ${l}`),
    `-- repeat: ${r.times}`,
    ...r.packets.map((p) => `-- packet: ${hex(p)}`),
    r.source,
  ].join('\n');
}

export function parseReproducer(text: string, file: string): Reproducer {
  const times = /^-- repeat: (\d+)$/m.exec(text);
  if (!times) throw new Error(`${file}: no '-- repeat: N' header line`);
  const packets = [...text.matchAll(/^-- packet: ?([0-9a-fA-F]*)\s*$/gm)].map((m) => {
    if (m[1].length % 2) throw new Error(`${file}: odd number of hex digits in a packet line`);
    return Uint8Array.from(Buffer.from(m[1], 'hex'));
  });
  if (!packets.length) throw new Error(`${file}: no '-- packet: HEX' header lines`);
  return { source: text, packets, times: Number(times[1]) };
}
