// Shared by the pattern tests: run string.find in real Lua (Wasmoon) and in
// compiled matchers, and render both results the same way so they compare
// as strings: "N" (no match), "E:<message>", or "start,end[,capture...]"
// with Lua's 1-based inclusive indices, string captures as "s<hex>",
// position captures as numbers.
import binaryen from 'binaryen';
import { LuaFactory, type LuaEngine } from 'wasmoon';
import { emitPatternMatcher, patternErrorMessage, type EmitPatternOptions, type PatternMatcher } from '../../compiler/patterns/index.js';

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

const LUA_PRELUDE = `
local function unhex(h) return (h:gsub('..', function(x) return string.char(tonumber(x, 16)) end)) end
local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end
function run(ph, sh, init, fname)
  local r = table.pack(pcall(string[fname], unhex(sh), unhex(ph), init))
  if not r[1] then return 'E:' .. tostring(r[2]) end
  if r[2] == nil then return 'N' end
  local out = {}
  for i = 2, r.n do
    local v = r[i]
    out[#out + 1] = type(v) == 'number' and tostring(v) or ('s' .. hex(v))
  end
  return table.concat(out, ',')
end
function gm(ph, sh)
  local it, out = string.gmatch(unhex(sh), unhex(ph)), {}
  local ok, err = pcall(function()
    while true do
      local r = table.pack(it())
      if r[1] == nil then return end
      local one = {}
      for i = 1, r.n do
        local v = r[i]
        one[#one + 1] = type(v) == 'number' and tostring(v) or ('s' .. hex(v))
      end
      out[#out + 1] = table.concat(one, ',')
    end
  end)
  -- errors raised inside the iterator carry the caller's position: drop it
  if not ok then out[#out + 1] = 'E:' .. tostring(err):gsub('^%[string "[^"]*"%]:%d+: ', '') end
  return table.concat(out, ';')
end`;

export type Mode = 'find' | 'match';

export interface LuaOracle {
  /** string.find / string.match(subject, pattern, init0 + 1) in Lua, rendered */
  run(mode: Mode, pattern: Uint8Array, subject: Uint8Array, init0: number): string;
  /** every iteration of string.gmatch(subject, pattern), rendered, joined by ';' */
  gmatch(pattern: Uint8Array, subject: Uint8Array): string;
  close(): void;
}

export async function createLuaOracle(): Promise<LuaOracle> {
  const engine: LuaEngine = await new LuaFactory().createEngine();
  await engine.doString(LUA_PRELUDE);
  const gm = engine.global.get('gm') as (p: string, s: string) => string;
  const run = engine.global.get('run') as (p: string, s: string, i: number, f: Mode) => string;
  return {
    run: (mode, pattern, subject, init0) => run(hex(pattern), hex(subject), init0 + 1, mode),
    gmatch: (pattern, subject) => gm(hex(pattern), hex(subject)),
    close: () => engine.global.close(),
  };
}

export const CAPS = 0;
export const SUBJECT = 1024;

export interface CompiledSet {
  mode: Mode;
  matchers: PatternMatcher[];
  /** runs matcher i, rendered like LuaOracle.run in this set's mode */
  find(i: number, subject: Uint8Array, init0: number): string;
  /** the exported matchers, to call without copying the subject */
  fns: ((subject: number, len: number, init: number, caps: number) => number)[];
  /** raw call: returns the matcher's result code */
  call(i: number, subject: Uint8Array, init0: number): number;
  memory: WebAssembly.Memory;
  wasmBytes: number;
}

/** Compiles all patterns into one module (one compile per batch, not per case). */
export function compilePatterns(
  patterns: Uint8Array[],
  opts: { mode?: Mode; optimize?: boolean; simd?: boolean; maxSubject?: number; emit?: EmitPatternOptions } = {},
): CompiledSet {
  const mode = opts.mode ?? 'find';
  const m = new binaryen.Module();
  const pages = Math.ceil((SUBJECT + (opts.maxSubject ?? 60_000)) / 65536);
  m.setMemory(pages, pages, 'memory');
  const matchers = patterns.map((p, i) => {
    const mt = emitPatternMatcher(m, p, `m${i}`, { simd: opts.simd ?? false, mode: opts.mode ?? 'find', ...opts.emit });
    m.addFunctionExport(`m${i}`, `m${i}`);
    return mt;
  });
  if (!m.validate()) throw new Error('generated module does not validate');
  if (opts.optimize) {
    const level = binaryen.getOptimizeLevel();
    binaryen.setOptimizeLevel(2);
    m.optimize();
    binaryen.setOptimizeLevel(level);
  }
  const bin = m.emitBinary();
  m.dispose();
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bin as BufferSource), {});
  const memory = inst.exports.memory as WebAssembly.Memory;
  const fns = matchers.map((_, i) => inst.exports[`m${i}`] as (s: number, l: number, i: number, c: number) => number);
  const call = (i: number, subject: Uint8Array, init0: number) => {
    new Uint8Array(memory.buffer).set(subject, SUBJECT);
    return fns[i](SUBJECT, subject.length, init0, CAPS);
  };
  const find = (i: number, subject: Uint8Array, init0: number) => {
    const r = call(i, subject, init0);
    if (r < 0) return 'E:' + patternErrorMessage(r);
    if (r === 0) return 'N';
    if (r !== 1) return `bad result ${r}`;
    const caps = new Int32Array(memory.buffer, CAPS, (matchers[i].captureCount + 1) * 2);
    const out = mode === 'find' ? [String(caps[0] + 1), String(caps[1])] : [];
    if (mode === 'match' && matchers[i].captureCount === 0) out.push('s' + hex(subject.subarray(caps[0], caps[1])));
    for (let k = 1; k <= matchers[i].captureCount; k++) {
      const [a, b] = [caps[2 * k], caps[2 * k + 1]];
      out.push(b === -1 ? String(a + 1) : 's' + hex(subject.subarray(a, b)));
    }
    return out.join(',');
  };
  return { mode, matchers, find, call, fns, memory, wasmBytes: bin.length };
}
