// Test helpers for the compiler: drive a compiled module exactly as
// docs/ABI.md says, read network-layer packets from the corpus, and run the
// same filter on Debian's lua5.4 with a small `data` library in Lua.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../compiler/index.js';
import { readCaptureFile } from '../../runtime/capture/read.js';
import { isSupportedLinkType, networkPacket } from '../../runtime/capture/link.js';
import { CORPUS } from './paths.js';

export async function compileOk(source: string, file = 'test.lua', optimize = 3, fuel?: number): Promise<Uint8Array> {
  const r = await compile(source, { file, optimize, fuel });
  if (!r.ok) throw new Error(`compile failed (${r.stage}):\n${r.reasons.join('\n')}`);
  return r.wasm;
}

export interface Loaded {
  run(packets: Uint8Array[]): number[];
  errors: { message: string; line: number; column: number }[];
  exports: Record<string, unknown>;
}

/** Instantiates a module per the ABI; verdict words: 0, 1, 2+site, or -1 for a trap. */
export function load(wasm: Uint8Array, fuel?: number): Loaded {
  const module = new WebAssembly.Module(wasm);
  const section = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, 'luapf')[0]!));
  const memory = new WebAssembly.Memory({ initial: section.memory.minPages, maximum: 65536 });
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const ex = inst.exports as Record<string, any>;
  if (fuel !== undefined) ex.fuel_limit.value = fuel;
  const status = ex.init();
  if (status !== 0) throw new Error(`init failed: ${JSON.stringify(section.errors[status - 2])}`);
  return {
    errors: section.errors,
    exports: ex,
    run(packets) {
      const base = Math.ceil(ex.heap_base.value / 16) * 16;
      const n = packets.length;
      const descs = base, verd = descs + 16 * n;
      let at = verd + 4 * n;
      const need = at + packets.reduce((s, p) => s + p.length, 0);
      if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
      const dv = new DataView(memory.buffer), mem = new Uint8Array(memory.buffer);
      packets.forEach((p, i) => {
        mem.set(p, at);
        dv.setUint32(descs + 16 * i, at, true);
        dv.setUint32(descs + 16 * i + 4, p.length, true);
        dv.setBigUint64(descs + 16 * i + 8, 0n, true);
        at += p.length;
      });
      let done = 0;
      while (done < n) {
        try {
          ex.filter_batch(descs + 16 * done, n - done, verd + 4 * done);
          done = n;
        } catch {
          const failed = done + ex.cursor.value;
          dv.setInt32(verd + 4 * failed, -1, true);
          done = failed + 1;
        }
      }
      return Array.from(new Int32Array(memory.buffer, verd, n));
    },
  };
}

/** Network-layer packets (what filter() sees) of a corpus capture. */
export function corpusPackets(name: string): Uint8Array[] {
  const cap = readCaptureFile(join(CORPUS, name));
  const out: Uint8Array[] = [];
  for (const r of cap.records) {
    if (isSupportedLinkType(r.linkType)) out.push(networkPacket(r));
  }
  return out;
}

const HARNESS = String.raw`
local VM = {}
local function view(s, o, n) return setmetatable({ __s = s, __o = o, __n = n }, VM) end
VM.__len = function(d) return rawget(d, '__n') end
VM.__tostring = function(d) return d.__s:sub(d.__o + 1, d.__o + d.__n) end
local function num(d, f)
  local off, len = f.offset or f[1], f.length or f[2]
  local typ, endian = f.type or f[3] or 'number', f.endian or f[4] or 'big'
  if typ:sub(1, 1) == 's' then
    if off + len > d.__n then return nil end
    return d.__s:sub(d.__o + off + 1, d.__o + off + len)
  end
  if len == 0 or len > 64 or off + len > d.__n * 8 then return nil end
  local e = endian:sub(1, 1)
  local v = 0
  if (e == 'l' or e == 'h') and len > 8 then
    for i = len // 8 - 1, 0, -1 do v = (v << 8) | d.__s:byte(d.__o + off // 8 + i + 1) end
    return v
  end
  for bit = off, off + len - 1 do
    v = (v << 1) | ((d.__s:byte(d.__o + bit // 8 + 1) >> (7 - bit % 8)) & 1)
  end
  return v
end
VM.__index = function(d, k)
  if k == 'layout' then return function(self, t) rawset(self, '__l', t); return self end end
  if k == 'segment' then return function(self, o, n)
    o = o or 0; n = n or self.__n - o
    if o < 0 or o >= self.__n or n < 0 or o + n > self.__n then return nil end
    return view(self.__s, self.__o + o, n) end end
  local l = rawget(d, '__l')
  if not l or not l[k] then return nil end
  return num(d, l[k])
end
local data = { layout = function(t) return t end }
package.preload.data = function() return data end
local chunk = assert(loadfile(arg[1])); chunk()
for line in io.lines(arg[2]) do
  local s = line:gsub('..', function(h) return string.char(tonumber(h, 16)) end)
  local ok, r = pcall(filter, view(s, 0, #s))
  io.write(ok and (r and '1' or '0') or 'E', '\n')
end
`;

/** Runs the filter on lua5.4 with the reference `data` library: 'accept' | 'reject' | 'error' per packet. */
export function luaVerdicts(source: string, packets: Uint8Array[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'luapf-c-'));
  writeFileSync(join(dir, 'h.lua'), HARNESS);
  writeFileSync(join(dir, 'f.lua'), Buffer.from(source, 'latin1'));
  writeFileSync(join(dir, 'p.txt'), packets.map((p) => Buffer.from(p).toString('hex')).join('\n') + (packets.length ? '\n' : ''));
  const out = execFileSync('lua5.4', [join(dir, 'h.lua'), join(dir, 'f.lua'), join(dir, 'p.txt')], { encoding: 'latin1', maxBuffer: 1 << 26 });
  return out.split('\n').filter((x) => x).map((x) => (x === '1' ? 'accept' : x === '0' ? 'reject' : 'error'));
}

export const verdictName = (w: number) => (w === 1 ? 'accept' : w === 0 ? 'reject' : 'error');
