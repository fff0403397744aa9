// Run-time tables kept in module state (compiler/heap/): generated
// sequences of stores, reads and deletions, one operation per packet,
// compiled against the Lua engine packet by packet (state carries over
// between packets and across collections); the heap cap; what stays
// interpreted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkScript, compile } from '../compiler/index.js';
import type { Filter, FilterError } from '../runtime/engine/filter.js';
import { createLuaFilter } from '../runtime/engine/lua.js';
import { WasmFilter } from '../runtime/engine/wasm.js';
import { batchOf } from './support/adversarial-helpers.js';

/** Verdicts and errors, in batches the Lua engine accepts (state carries over). */
function run(f: Filter, packets: Uint8Array[]): { verdicts: number[]; errors: FilterError[] } {
  const verdicts: number[] = [], errors: FilterError[] = [];
  for (let at = 0; at < packets.length; at += 1000) {
    const part = packets.slice(at, at + 1000);
    const v = new Uint8Array(part.length);
    for (const e of f.filterBatch(batchOf(part, 0, 1_700_000_000), v)) errors.push({ ...e, index: e.index + at });
    verdicts.push(...v);
  }
  return { verdicts, errors };
}

/** The compiled engine names line:col, the interpreter the line only. */
const lineOnly = (m: string) => m.replace(/^(t\.lua:\d+):\d+:/, '$1:');

const engine = (src: string) => checkScript(src, { file: 't.lua' });

// A packet is one operation: [op, key kind, key byte, value kind, value byte, string key bytes...].
// Small key bytes collide on purpose; string keys longer than 16 bytes live outside their slot.
const OPS = `local data = require'data'
local P = data.layout{ op = {0, 8}, kk = {8, 8}, kb = {16, 8}, vk = {24, 8}, vb = {32, 8} }
local t = {}
local counts = {}

local function key(pkt)
  local kk, kb = pkt.kk, pkt.kb
  if kk == 0 then return kb end
  if kk == 1 then return kb * 1.0 end             -- t[3.0] is t[3]
  if kk == 2 then return kb + 0.5 end
  if kk == 3 then return tostring(pkt):sub(6) end
  if kk == 4 then return kb * 0x100000000 - 7 end
  if kk == 5 then return kb > 127 end
  return nil
end

local function value(pkt)
  local vk, vb = pkt.vk, pkt.vb
  if vk == 0 then return vb end
  if vk == 1 then return vb / 4 end
  if vk == 2 then return vb > 127 end
  if vk == 3 then return tostring(pkt):sub(6) end  -- copied into the table; long ones out of line
  return nil
end

function filter(pkt)
  pkt:layout(P)
  local op = pkt.op
  if op == nil then return true end
  local k = key(pkt)
  if op == 0 then t[k] = value(pkt) return true end
  if op == 1 then return t[k] == value(pkt) end
  if op == 2 then return t[k] ~= nil end
  if op == 3 then return t[k] == tostring(pkt):sub(6) end
  if op == 4 then
    local s = tostring(pkt):sub(6)
    if pkt.vb > 200 then return counts[s] + 1 > 2 end   -- an error while s was never counted
    counts[s] = (counts[s] or 0) + 1
    return counts[s] % 3 ~= 0
  end
  if op == 5 then t[k] = nil return (t[k] or 1) == 1 end
  return t[k] or false
end
`;

const op = fc.tuple(
  // stores and deletions often enough that probe chains form and break
  fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 5, 5, 6), fc.constantFrom(0, 0, 0, 0, 1, 2, 3, 3, 4, 5, 6), fc.integer({ min: 0, max: 15 }),
  fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 255 }),
  fc.oneof(fc.constant(''), fc.string({ unit: fc.constantFrom("a", "\0", "\xff"), maxLength: 18 })),
).map(([o, kk, kb, vk, vb, s]) => Uint8Array.from([o, kk, kb, vk, vb, ...Buffer.from(s, 'latin1')]));

describe('mutable module-level tables', () => {
  it('the stateful examples compile', async () => {
    const fs = await import('node:fs');
    for (const name of ['rate-limit', 'port-knock', 'source-budget'])
      expect(engine(fs.readFileSync(`examples/${name}.lua`, 'latin1')).reasons).toEqual([]);
  });

  it('compiled = Lua engine over generated operation sequences', async () => {
    expect(engine(OPS).reasons).toEqual([]);
    const r = await compile(OPS, { file: 't.lua', optimize: 1 });
    if (!r.ok) throw new Error(r.reasons.join('\n'));
    const mod = new WebAssembly.Module(r.wasm as Uint8Array<ArrayBuffer>);
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 300, size: 'max' }), async (packets) => {
      const w = new WasmFilter(mod);
      const l = await createLuaFilter(OPS, 't.lua');
      try {
        const a = run(w, packets), b = run(l, packets);
        expect(a.verdicts).toEqual(b.verdicts);
        // same error, same message (the position prefix is the site's)
        expect(a.errors.map((e) => [e.index, lineOnly(e.message)])).toEqual(b.errors.map((e) => [e.index, lineOnly(e.message)]));
      } finally { w.close(); l.close(); }
    }), { numRuns: 50 });
  });

  it('sequences (table.insert, table.remove(t, 1), table.remove(t), #t) = Lua engine', async () => {
    const src = `local data = require'data'
local P = data.layout{ op = {0, 8}, v = {8, 8} }
local q = {}
function filter(pkt)
  pkt:layout(P)
  local op, v = pkt.op, pkt.v
  if op == 0 then table.insert(q, v) return #q % 2 == 0 end
  if op == 1 then table.insert(q, tostring(pkt):sub(3)) return true end
  if op == 2 then local x = table.remove(q, 1) return x == nil or x == v or x == tostring(pkt):sub(3) end
  if op == 3 then local x = table.remove(q) return x ~= nil and #q > v % 4 end
  if op == 4 then return q[v % 8] == tostring(pkt):sub(3) end
  return #q == v
end`;
    expect(engine(src).reasons).toEqual([]);
    const r = await compile(src, { file: 't.lua', optimize: 1 });
    if (!r.ok) throw new Error(r.reasons.join('\n'));
    const mod = new WebAssembly.Module(r.wasm as Uint8Array<ArrayBuffer>);
    const seqOp = fc.tuple(fc.constantFrom(0, 0, 1, 1, 2, 2, 3, 4, 5), fc.integer({ min: 0, max: 12 }),
      fc.string({ unit: fc.constantFrom('a', '\0'), maxLength: 20 }))
      .map(([o, v, str]) => Uint8Array.from([o, v, ...Buffer.from(str, 'latin1')]));
    await fc.assert(fc.asyncProperty(fc.array(seqOp, { minLength: 1, maxLength: 200, size: 'max' }), async (packets) => {
      const w = new WasmFilter(mod);
      const l = await createLuaFilter(src, 't.lua');
      try {
        expect(run(w, packets).verdicts).toEqual(run(l, packets).verdicts);
      } finally { w.close(); l.close(); }
    }), { numRuns: 30 });
  });

  it('grows, deletes with backward shifts and keeps every key (many keys)', async () => {
    const src = `local data = require'data'
local P = data.layout{ op = {0, 8}, k = {8, 16} }
local t = {}
function filter(pkt)
  pkt:layout(P)
  if pkt.op == 0 then t[pkt.k * 7919] = pkt.k return true end
  if pkt.op == 1 then t[pkt.k * 7919] = nil return true end
  return t[pkt.k * 7919] == pkt.k
end`;
    const pk = (o: number, k: number) => Uint8Array.from([o, k >> 8, k & 0xff]);
    const packets: Uint8Array[] = [];
    for (let k = 0; k < 3000; k++) packets.push(pk(0, k));
    for (let k = 0; k < 3000; k += 3) packets.push(pk(1, k));
    for (let k = 0; k < 3100; k++) packets.push(pk(2, k));
    const r = await compile(src, { file: 't.lua', optimize: 1 });
    if (!r.ok) throw new Error(r.reasons.join('\n'));
    const w = new WasmFilter(r.wasm);
    const l = await createLuaFilter(src, 't.lua');
    try {
      const a = run(w, packets).verdicts;
      expect(a).toEqual(run(l, packets).verdicts);
      expect(a.slice(4000).filter((v) => v === 1).length).toBe(2000);
    } finally { w.close(); l.close(); }
  });

  it('filling the heap is "not enough memory" for that packet; stored keys stay', async () => {
    const src = `local data = require'data'
local P = data.layout{ op = {0, 8}, k = {8, 16} }
local t = {}
function filter(pkt)
  pkt:layout(P)
  if pkt.op == 0 then t[pkt.k] = true return true end
  return t[pkt.k] == true
end`;
    const r = await compile(src, { file: 't.lua', optimize: 1, heapMemory: 8192 });
    if (!r.ok) throw new Error(r.reasons.join('\n'));
    const w = new WasmFilter(r.wasm);
    try {
      const packets = Array.from({ length: 200 }, (_, k) => Uint8Array.from([0, k >> 8, k & 0xff]));
      const { verdicts, errors } = run(w, packets);
      const first = verdicts.indexOf(2);
      // an 8 KiB semispace holds the table and its 128-slot array (32 bytes a slot, 4 KiB, with the
      // smaller ones it outgrew until a collection drops them), not the 256-slot one the 65th key needs
      expect(first).toBe(64);
      expect(verdicts.slice(0, first).every((v) => v === 1)).toBe(true);
      expect(errors[0]!.message).toMatch(/t\.lua:6:\d+: not enough memory/);
      const back = run(w, Array.from({ length: first + 1 }, (_, k) => Uint8Array.from([1, k >> 8, k & 0xff]))).verdicts;
      expect(back).toEqual([...Array(first).fill(1), 0]);
    } finally { w.close(); }
  });

  it('constant field keys (t.name) in a script with no other strings; the section records the heap', async () => {
    const src = `local t = {}
function filter(pkt)
  t.n = (t.n or 0) + 1
  t['m'] = t.n % 2 == 0
  t[#pkt] = 2.5
  return t.m and t[#pkt] == 2.5
end`;
    expect(engine(src).reasons).toEqual([]);
    const r = await compile(src, { file: 't.lua', optimize: 1, heapMemory: 65536 });
    if (!r.ok) throw new Error(r.reasons.join('\n'));
    const w = new WasmFilter(r.wasm);
    const l = await createLuaFilter(src, 't.lua');
    try {
      expect(w.info.memory).toMatchObject({ heapBytes: 65536 });
      const packets = [1, 2, 3, 4, 5].map((n) => new Uint8Array(n));
      const a = run(w, packets).verdicts;
      expect(a).toEqual([0, 1, 0, 1, 0]);
      expect(a).toEqual(run(l, packets).verdicts);
    } finally { w.close(); l.close(); }
  });

  it('what stays on the Lua engine, with a reason', () => {
    const base = (body: string) => `local t = {}\nfunction filter(pkt)\n${body}\nend`;
    expect(engine(base('t[1] = pkt return true')).reasons.join()).toMatch(/table value that may be a data view/);
    expect(engine(base('t[pkt] = 1 return true')).reasons.join()).toMatch(/table key that may be a data view/);
    expect(engine(base('t[1] = string return true')).reasons.join()).toMatch(/table value that may be a data view, layout, library/);
  });

  it('what the first mutable tables refused compiles now, with the interpreter\'s results', async () => {
    const base = (body: string) => `local t = {}\nfunction filter(pkt)\n${body}\nend`;
    const packets = [0, 1, 2, 3, 5, 8].map((n) => new Uint8Array(n));
    for (const body of [
      'table.insert(t, #pkt) t[#t + 1] = 3 return #t % 3 == 0',
      'table.insert(t, #pkt) if #t > 3 then return table.remove(t, 2) == 1 end return false',
      'table.insert(t, 1, #pkt) return t[1] == #pkt and #t > 2',
      't[#pkt] = 1 local n = 0 for k, v in pairs(t) do n = n + k * v end return n > 3',
      'local u = {1}\nu[1] = #pkt return u[1] == 2',
    ]) {
      const src = base(body);
      expect(engine(src).reasons).toEqual([]);
      const r = await compile(src, { file: 't.lua', optimize: 1 });
      if (!r.ok) throw new Error(r.reasons.join('\n'));
      const w = new WasmFilter(r.wasm);
      const l = await createLuaFilter(src, 't.lua');
      try {
        expect(run(w, packets).verdicts, body).toEqual(run(l, packets).verdicts);
      } finally { w.close(); l.close(); }
    }
  });
});
