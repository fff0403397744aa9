// The public library API (runtime/index.ts) as a program uses it: real
// captures, both engines, AOT modules, options validation, typed errors,
// doc comments on every export, and binaryen staying unloaded unless a
// script is compiled.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CaptureError, EngineUnavailableError, FilterRuntimeError, LinkTypeError, ModuleFormatError, OptionsError,
  ScriptError, checkFilter, compileFilter, createCaptureWriter, loadFilter, loadFilterFile, networkPacket, readCapture, writeCapture,
  type CaptureRecord,
} from '../runtime/index.js';
import { CORPUS, REPO } from './support/paths.js';

const TCP_PORT = join(REPO, 'examples', 'tcp-port.lua');
const v4 = join(CORPUS, 'v4.pcap');

async function records(path: string): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of readCapture(path)) out.push(r);
  return out;
}

// a function stored in a table keeps it on the Lua engine (mutable tables of numbers compile)
const STATEFUL = 'local t = {}\nfunction filter(pkt)\n  t.n = (t.n or 0) + 1; t.f = string\n  return t.n % 2 == 0\nend\n';

describe('loadFilter / PacketFilter', () => {
  it('JIT-compiles a script and matches a real capture packet by packet and in bulk (tshark-checked counts)', async () => {
    const filter = await loadFilterFile(TCP_PORT);
    expect(filter.engine).toBe('wasm');
    expect(filter.moduleInfo?.source).toBe('tcp-port.lua');
    const recs = await records(v4);
    const one = recs.map((r) => filter.match(r));
    expect(one.filter(Boolean)).toHaveLength(41);
    const bulk = filter.matchBatch(recs);
    expect([...bulk]).toEqual(one.map(Number));
    expect(filter.counters).toEqual({ packets: 86, accepted: 82, rejected: 4, errors: 0 });
    filter.close();
    filter.close();
    expect(() => filter.match(recs[0])).toThrow(/closed/);
  });

  it('gives the same verdicts on the Lua engine, over a multi-batch capture', async () => {
    const recs = await records(join(CORPUS, 'many-protocols.pcap'));
    const src = readFileSync(TCP_PORT);
    const wasm = await loadFilter(src, { engine: 'wasm' });
    const lua = await loadFilter(src, { engine: 'lua' });
    const a = wasm.matchBatch(recs);
    const b = lua.matchBatch(recs);
    expect(a.reduce((s, v) => s + v, 0)).toBe(3252);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    wasm.close();
    lua.close();
  });

  it('loads an AOT module from compileFilter and never needs the script again', async () => {
    const compiled = await compileFilter(readFileSync(TCP_PORT), { name: 'tcp-port.lua' });
    expect(compiled.engine).toBe('wasm');
    const filter = await loadFilter(compiled.wasm!);
    expect(filter.engine).toBe('wasm');
    expect(filter.reasons).toEqual([]);
    expect(filter.matchBatch(await records(v4)).reduce((s, v) => s + v, 0)).toBe(41);
    await expect(loadFilter(compiled.wasm!, { engine: 'lua' })).rejects.toBeInstanceOf(EngineUnavailableError);
    const off = await compileFilter(readFileSync(TCP_PORT), { name: 'tcp-port.lua', prefetch: 0 });
    const section = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(new WebAssembly.Module(off.wasm!), 'luapf')[0]!));
    expect(section.options.prefetch).toBe(0);
    await expect(compileFilter(readFileSync(TCP_PORT), { prefetch: 1.5 })).rejects.toThrow(/prefetch/);
  });

  it('falls back to Lua with reasons, keeps state across packets, and honours engine wasm', async () => {
    const check = await checkFilter(STATEFUL);
    expect(check.engine).toBe('lua');
    expect(check.reasons[0]).toMatch(/^3:\d+: /);
    const compiled = await compileFilter(STATEFUL);
    expect(compiled).toMatchObject({ engine: 'lua', wasm: undefined });
    expect(compiled.details[0].line).toBe(3);
    await expect(compileFilter(STATEFUL, { engine: 'wasm' })).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(loadFilter(STATEFUL, { engine: 'wasm' })).rejects.toBeInstanceOf(EngineUnavailableError);
    const filter = await loadFilter(STATEFUL);
    expect(filter.engine).toBe('lua');
    expect(filter.reasons.length).toBeGreaterThan(0);
    const pkt = new Uint8Array([0x45]);
    expect([filter.match(pkt), filter.match(pkt), filter.match(pkt)]).toEqual([false, true, false]);
    expect([...filter.matchBatch([pkt, pkt, pkt, pkt])]).toEqual([1, 0, 1, 0]);
    filter.close();
  });

  it('maps runtime errors by onError, counts them and reports file:line:col', async () => {
    const script = 'function filter(pkt)\n  if #pkt > 1 then error("too long") end\n  return true\nend\n';
    for (const engine of ['wasm', 'lua'] as const) {
      for (const onError of ['drop', 'pass'] as const) {
        const filter = await loadFilter(script, { engine, onError, name: 'err.lua' });
        const seen: FilterRuntimeError[] = [];
        filter.onFilterError((e) => seen.push(e));
        const v = filter.matchBatch([new Uint8Array(1), new Uint8Array(5), new Uint8Array(0)]);
        expect([...v]).toEqual([1, onError === 'pass' ? 1 : 0, 1]);
        expect(filter.counters).toEqual({ packets: 3, accepted: onError === 'pass' ? 3 : 2, rejected: onError === 'pass' ? 0 : 1, errors: 1 });
        expect(seen).toHaveLength(1);
        expect(seen[0]).toBeInstanceOf(FilterRuntimeError);
        // counted from 1, as tshark's frame.number and luapf run count: the second packet is 2
        expect(seen[0].packet).toBe(2);
        expect(seen[0].file).toBe('err.lua');
        expect(seen[0].line).toBe(2);
        expect(seen[0].column).toBeGreaterThan(0);
        expect(seen[0].detail).toMatch(/too long/);
        expect(filter.firstErrors).toEqual(seen);
        filter.close();
      }
    }
  });

  it('stops a runaway script with fuel, per packet', async () => {
    const filter = await loadFilter('function filter(pkt) while true do end end', { fuel: 1000 });
    expect([...filter.matchBatch([new Uint8Array(1), new Uint8Array(1)])]).toEqual([0, 0]);
    expect(filter.counters.errors).toBe(2);
    filter.close();
  });

  it('strips link headers by layer and link type', async () => {
    const script = 'function filter(pkt) return #pkt == 20 end';
    const frame = new Uint8Array(34); // 14-byte Ethernet header + 20 bytes
    frame[12] = 0x08;
    const l3 = await loadFilter(script, { linkType: 1 });
    const l2 = await loadFilter(script, { layer: 2, linkType: 1 });
    expect(l3.match(frame)).toBe(true);
    expect(l3.match({ data: frame.subarray(14), linkType: 101 })).toBe(true);
    expect(l2.match(frame)).toBe(false);
    expect(networkPacket({ data: frame, linkType: 1 })).toHaveLength(20);
    expect(() => l3.match({ data: frame, linkType: 147 })).toThrow(LinkTypeError);
    // the library's remedy is its option, not the command line's flag
    expect(() => l3.match({ data: frame, linkType: 147 })).toThrow(/give the option layer: 2 to filter whole frames$/);
    l3.close();
    l2.close();
  });
});

describe('typed errors and options', () => {
  it('rejects bad options with OptionsError naming the option', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ fuel: 0 }, 'fuel'], [{ fuel: 1.5 }, 'fuel'], [{ engine: 'jit' }, 'engine'], [{ onError: 'accept' }, 'onError'],
      [{ layer: 4 }, 'layer'], [{ memoryBytes: 10 }, 'memoryBytes'], [{ linkType: -1 }, 'linkType'], [{ fule: 10 }, 'fule'],
    ];
    for (const [options, name] of bad) {
      const e = await loadFilter('function filter(p) return true end', options).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OptionsError);
      expect(e).toBeInstanceOf(RangeError);
      expect((e as OptionsError).option).toBe(name);
    }
    await expect(compileFilter('function filter(p) return true end', { optimize: 9 })).rejects.toBeInstanceOf(OptionsError);
  });

  it('gives syntax errors as ScriptError with line and column, on every path', async () => {
    const script = 'function filter(pkt)\n  return pkt ==\nend\n';
    for (const attempt of [
      () => loadFilter(script, { name: 'bad.lua' }), () => loadFilter(script, { name: 'bad.lua', engine: 'wasm' }),
      () => compileFilter(script, { name: 'bad.lua' }), () => checkFilter(script, { name: 'bad.lua' }),
    ]) {
      const e = await attempt().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ScriptError);
      expect((e as ScriptError).kind).toBe('syntax');
      expect((e as ScriptError).line).toBe(3);
      expect((e as ScriptError).message).toMatch(/^bad\.lua:3(:\d+)?: /);
    }
    const lua = await loadFilter(script, { engine: 'lua', name: 'bad.lua' }).catch((x: unknown) => x);
    expect(lua).toBeInstanceOf(ScriptError);
    expect(lua).toMatchObject({ line: 3, column: 1 });
    // Lua's message, luaparse's column where the first '=' would mislead a token search
    const twice = await loadFilter('function filter(pkt)\n  if true then x = = 1 end\nend', { engine: 'lua', name: 's.lua' }).catch((x: unknown) => x);
    expect((twice as ScriptError).message).toBe("s.lua:2:20: unexpected symbol near '='");
    await expect(loadFilter(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).rejects.toBeInstanceOf(ModuleFormatError);
  });

  it('reads captures from bytes and streams, and reports the byte offset of a fault', async () => {
    const bytes = readFileSync(v4);
    let n = 0;
    for await (const r of readCapture(bytes)) { n++; expect(r.linkType).toBe(1); }
    expect(n).toBe(43);
    const cut = bytes.subarray(0, 1000);
    const got: number[] = [];
    const e = await (async () => { for await (const r of readCapture(cut, { name: 'cut.pcap' })) got.push(r.offset); })().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CaptureError);
    expect((e as CaptureError).offset).toBeGreaterThan(got[got.length - 1]);
    expect((e as CaptureError).message).toMatch(/^cut\.pcap: offset \d+: /);
    expect(() => readCapture(42 as never)).toThrow(OptionsError);
  });

  it('writes the accepted packets with writeCapture and reads them back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'luapf-api-'));
    const filter = await loadFilterFile(TCP_PORT);
    const accepted = (await records(v4)).filter((r) => filter.match(r));
    const out = join(dir, 'out.pcap');
    expect(await writeCapture(out, accepted)).toBe(41);
    const back = await records(out);
    expect(back.map((r) => [r.tsSec, r.tsNsec, Buffer.from(r.data).toString('hex')]))
      .toEqual(accepted.map((r) => [r.tsSec, r.tsNsec, Buffer.from(r.data).toString('hex')]));
    expect(await writeCapture(pathToFileURL(join(dir, 'empty.pcapng')), [], { format: 'pcapng' })).toBe(0);
    filter.close();
  });

  it('createCaptureWriter takes the options of writeCapture, and a file: URL like it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'luapf-writer-'));
    const recs = await records(v4);
    const streamed = createCaptureWriter(pathToFileURL(join(dir, 'streamed.pcapng')), { linkType: 1, format: 'pcapng', snaplen: 100 });
    for (const r of recs) streamed.write(r);
    await streamed.close();
    expect(await writeCapture(pathToFileURL(join(dir, 'whole.pcapng')), recs, { linkType: 1, format: 'pcapng', snaplen: 100 })).toBe(43);
    expect(readFileSync(join(dir, 'streamed.pcapng'))).toEqual(readFileSync(join(dir, 'whole.pcapng')));
    for (const bad of [new URL('https://example.com/x.pcap'), '']) {
      expect(() => createCaptureWriter(bad)).toThrow(OptionsError);
      await expect(writeCapture(bad, [])).rejects.toBeInstanceOf(OptionsError);
    }
  });

  it('a .wasm that is not a luapf module, or not Wasm at all, is a ModuleFormatError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'luapf-module-'));
    writeFileSync(join(dir, 'garbage.wasm'), 'function filter() return true end');
    writeFileSync(join(dir, 'plain.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const garbage = await loadFilterFile(join(dir, 'garbage.wasm')).catch((x: unknown) => x);
    expect(garbage).toBeInstanceOf(ModuleFormatError);
    expect(garbage).toMatchObject({ file: 'garbage.wasm', message: expect.stringMatching(/^garbage\.wasm: not a WebAssembly module/) });
    const plain = await loadFilterFile(join(dir, 'plain.wasm')).catch((x: unknown) => x);
    expect((plain as ModuleFormatError).message).toMatch(/^plain\.wasm: not a luapf filter module/);
    // the magic decides: module bytes under a .lua name load as a module
    const compiled = await compileFilter(readFileSync(TCP_PORT));
    writeFileSync(join(dir, 'module.lua'), compiled.wasm!);
    const filter = await loadFilterFile(join(dir, 'module.lua'));
    expect(filter.engine).toBe('wasm');
    filter.close();
  });
});

describe('the public entry point', () => {
  beforeAll(() => {
    if (!readdirOk()) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  });

  it('has a doc comment on every exported name', () => {
    const file = join(REPO, 'runtime', 'index.ts');
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
    expect(exports.length).toBeGreaterThan(30);
    // the summary on the export itself, or the declaration's own comment
    const doc = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim();
    const undocumented = exports
      .filter((s) => doc(s) === '' && doc(s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s) === '')
      .map((s) => s.name);
    expect(undocumented).toEqual([]);
  });

  // A resolve hook in the child records every module URL it loads: loading
  // a .wasm or a script on the Lua engine must not reach binaryen nor the
  // compiler, and compiling must (the check's control). compiler/abi.ts, the
  // ABI's constants that both halves read, is a leaf and does not count.
  it('does not load binaryen or the compiler unless it compiles', () => {
    const dir = mkdtempSync(join(tmpdir(), 'luapf-hook-'));
    const log = join(dir, 'urls.log');
    writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LUAPF_URL_LOG, r.url + '\\n');
  return r;
}\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
    const api = pathToFileURL(join(REPO, 'dist', 'runtime', 'index.js')).href;
    const wasmFile = join(dir, 'tcp-port.wasm');
    const run = (mode: string) => {
      writeFileSync(log, '');
      const script = `import { readFileSync, writeFileSync } from 'node:fs';
import { loadFilter, loadFilterFile, compileFilter, readCapture } from ${JSON.stringify(api)};
const mode = ${JSON.stringify(mode)};
let filter;
if (mode === 'compile') {
  writeFileSync(${JSON.stringify(wasmFile)}, (await compileFilter(readFileSync(${JSON.stringify(TCP_PORT)}))).wasm);
  filter = await loadFilterFile(${JSON.stringify(TCP_PORT)});
} else if (mode === 'wasm') filter = await loadFilterFile(${JSON.stringify(wasmFile)});
else filter = await loadFilterFile(${JSON.stringify(TCP_PORT)}, { engine: 'lua' });
let n = 0;
for await (const batch of readCapture(${JSON.stringify(v4)}).batches()) n += filter.matchBatch(batch).reduce((s, v) => s + v, 0);
console.log(filter.engine, n);\n`;
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, '--input-type=module', '-e', script], {
        env: { ...process.env, LUAPF_URL_LOG: log }, encoding: 'utf8',
      });
      expect(r.stderr).not.toMatch(/Error/);
      const urls = readFileSync(log, 'utf8').split('\n');
      return { out: r.stdout.trim(), binaryen: urls.some((u) => /\/node_modules\/binaryen\//.test(u)), compiler: urls.some((u) => /\/dist\/compiler\/(?!abi\.js$)/.test(u)) };
    };
    expect(run('compile')).toEqual({ out: 'wasm 41', binaryen: true, compiler: true });
    expect(run('wasm')).toEqual({ out: 'wasm 41', binaryen: false, compiler: false });
    expect(run('lua')).toEqual({ out: 'lua 41', binaryen: false, compiler: false });
  }, 60_000);
});

function readdirOk(): boolean {
  try { readFileSync(join(REPO, 'dist', 'runtime', 'index.js')); return true; } catch { return false; }
}
