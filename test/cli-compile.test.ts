// `luapf compile`, `luapf check` and running the .wasm they make, through
// the built CLI as a user would.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO } from './support/paths.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');

function luapf(args: string[], cwd = REPO) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'latin1' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  tmp = mkdtempSync(join(tmpdir(), 'luapf-compile-'));
});

describe('luapf check', () => {
  it('says wasm for a header filter, with the module size', () => {
    const r = luapf(['check', 'examples/tcp-port.lua']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/engine wasm \(compiled, module \d+ bytes\)/);
  });

  it('lists every reason with line:col when the script is outside the subset', () => {
    const script = join(tmp, 'closure.lua');
    writeFileSync(script, [
      'local function counter() local n = 0 return function() n = n + 1 return n end end',
      'function filter(pkt)',
      '  return setmetatable({}, {}) ~= nil',
      'end',
    ].join('\n'));
    const r = luapf(['check', script, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.engine).toBe('lua');
    expect(doc.reasons.length).toBeGreaterThanOrEqual(2);
    for (const reason of doc.reasons) expect(reason).toMatch(/^\d+:\d+: /);
  });

  it('says a library function is not compiled yet, and lists only the first cause, not its knock-on effects', () => {
    const script = join(tmp, 'format.lua');
    writeFileSync(script, [
      'function filter(pkt)',
      "  local s = string.format('%d', #pkt)",
      "  return #s > 2 and s:find('1') ~= nil and s .. 'x' == '1x'",
      'end',
    ].join('\n'));
    const r = luapf(['check', script]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${script}: engine lua (interpreted) because:\n  ${script}:2:13: string.format is not compiled yet\n`);
  });

  it('a syntax error names FILE:LINE:COL and exits 1', () => {
    const script = join(tmp, 'syntax.lua');
    writeFileSync(script, 'function filter(pkt)\n  return pkt ==\nend\n');
    const r = luapf(['check', script]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${script}:3:1: `);
  });
});

describe('luapf check reports what run would do', () => {
  const v4 = join(CORPUS, 'v4.pcap');
  const write = (name: string, text: string | Uint8Array) => {
    const path = join(tmp, name);
    writeFileSync(path, text);
    return path;
  };

  it('a script without a global filter, or whose main chunk fails, fails check as it fails run (exit 1, FILE:LINE:COL)', () => {
    const none = write('nofilter.lua', 'local x = 1\n');
    const main = write('mainerr.lua', 'local t = nil\nlocal y = 1 + t.x\nfunction filter(pkt) return true end\n');
    for (const [script, message] of [
      [none, `${none}: the script does not define a global function 'filter'`],
      [main, `${main}:2:15: attempt to index a nil value (local 't')`],
    ]) {
      const check = luapf(['check', script]);
      expect(check.status).toBe(1);
      expect(check.stdout).toContain(message);
      const run = luapf(['run', script, v4]);
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`luapf: ${message}\n`);
      const json = JSON.parse(luapf(['check', script, '--json']).stdout);
      expect(json).toMatchObject({ filter: script, engine: null, error: { kind: 'load', message } });
    }
  });

  it('describes a compiled module: ABI version, compiler, source and options (exit 0)', () => {
    const wasm = join(tmp, 'described.wasm');
    expect(luapf(['compile', 'examples/tcp-port.lua', '-o', wasm]).status).toBe(0);
    const r = luapf(['check', wasm]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\S+described\.wasm: engine wasm \(compiled module, \d+ bytes\): ABI 1, luapf \d+\.\d+\.\d+, from examples\/tcp-port\.lua\n  options: .*prefetch 16/);
    const doc = JSON.parse(luapf(['check', wasm, '--json']).stdout);
    expect(doc).toMatchObject({ engine: 'wasm', module: { abi: 1, source: 'examples/tcp-port.lua', options: { prefetch: 16, fuel: 1_000_000 } } });
    expect(doc.module.compiler).toMatch(/^luapf /);
    // the magic decides, not the name: a module called .lua is loaded as a module by run and check
    const disguised = join(tmp, 'module.lua');
    copyFileSync(wasm, disguised);
    expect(luapf(['check', disguised]).stdout).toMatch(/compiled module/);
    const run = luapf(['run', disguised, v4, '--json']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).total.accepted).toBe(41);
  });

  it('a .wasm without the magic, or a Wasm module that is not luapf\'s, is refused naming the file', () => {
    const garbage = write('garbage.wasm', 'garbage');
    const plain = write('plain.wasm', new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const broken = write('broken.wasm', new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9, 9, 9]));
    for (const [file, message] of [
      [garbage, `${garbage}: not a WebAssembly module`],
      [plain, `${plain}: not a luapf filter module`],
      [broken, `${broken}: not a valid WebAssembly module`],
    ]) {
      const check = luapf(['check', file]);
      expect(check.status).toBe(1);
      expect(check.stdout).toContain(message);
      const run = luapf(['run', file, v4]);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^luapf: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(run.stderr).not.toMatch(/syntax|internal error/);
    }
  });

  it('takes several filters: every example compiles (examples/README.md), --json gives an array', () => {
    const examples = readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.lua')).map((f) => `examples/${f}`);
    expect(examples.length).toBeGreaterThanOrEqual(12);
    const r = luapf(['check', ...examples]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(examples.map((f) => expect.stringMatching(new RegExp(`^${f}: engine wasm \\(compiled, module \\d+ bytes\\)$`))));
    const doc = JSON.parse(luapf(['check', examples[0], examples[1], '--json']).stdout);
    expect(doc.map((d: { filter: string }) => d.filter)).toEqual(examples.slice(0, 2));
    // one failing filter among good ones: exit 1
    expect(luapf(['check', examples[0], join(tmp, 'nofilter.lua')]).status).toBe(1);
  });
});

describe('script errors name the path as given, with LINE:COL', () => {
  it('in load errors and in per-packet errors of either engine', () => {
    const dir = join(tmp, 'rel');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'main.lua'), 'local t = nil\nprint(t.x)\nfunction filter() return true end\n');
    writeFileSync(join(dir, 'sub', 'packet.lua'), 'function filter(pkt)\n  local t = nil\n  return t.x\nend\n');
    const main = luapf(['run', 'sub/main.lua', join(CORPUS, 'v4.pcap')], dir);
    expect(main.status).toBe(1);
    expect(main.stderr).toBe("luapf: sub/main.lua:2:7: attempt to index a nil value (local 't')\n");
    const perPacket = luapf(['run', 'sub/packet.lua', join(CORPUS, 'v4.pcap'), '--engine', 'lua', '--json'], dir);
    expect(JSON.parse(perPacket.stdout).firstErrors[0]).toMatchObject({
      packet: 1, file: 'sub/packet.lua', line: 3, column: 10, message: "attempt to index a nil value (local 't')",
    });
  });
});

describe('luapf compile', () => {
  it('writes a .wasm that luapf run executes with the verdicts of the .lua', () => {
    const wasm = join(tmp, 'tcp-port.wasm');
    const c = luapf(['compile', 'examples/tcp-port.lua', '-o', wasm, '--wat']);
    expect(c.status).toBe(0);
    expect(readFileSync(wasm).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    expect(readFileSync(join(tmp, 'tcp-port.wat'), 'utf8')).toMatch(/^\(module/);

    const captures = ['v4.pcap', 'v6.pcap', 'sll.pcap', 'many-protocols.pcap'].map((f) => join(CORPUS, f));
    const verdicts = (filter: string, engine: string) => {
      const out = join(tmp, `${engine}.tsv`);
      const r = luapf(['run', filter, ...captures, '--verdicts', out, '--engine', engine]);
      expect(r.status).toBe(0);
      return readFileSync(out, 'latin1');
    };
    const fromWasm = verdicts(wasm, 'wasm');
    expect(fromWasm.split('\n').length).toBeGreaterThan(5000);
    expect(fromWasm).toBe(verdicts('examples/tcp-port.lua', 'lua'));
  });

  it('--prefetch is written into the module; a bad value is a usage error', () => {
    const options = (file: string) => JSON.parse(new TextDecoder().decode(
      WebAssembly.Module.customSections(new WebAssembly.Module(readFileSync(file)), 'luapf')[0]!)).options;
    const byDefault = join(tmp, 'default.wasm'), off = join(tmp, 'off.wasm');
    expect(luapf(['compile', 'examples/tcp-port.lua', '-o', byDefault]).status).toBe(0);
    expect(luapf(['compile', 'examples/tcp-port.lua', '-o', off, '--prefetch', '0']).status).toBe(0);
    expect(options(byDefault).prefetch).toBe(16);
    expect(options(off).prefetch).toBe(0);
    const bad = luapf(['compile', 'examples/tcp-port.lua', '-o', off, '--prefetch', '-3']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--prefetch.*integer from 0 to 65535/);
  });

  it('refuses a script outside the subset, listing the reasons, exit 1', () => {
    const script = join(tmp, 'meta.lua');
    writeFileSync(script, 'local t = setmetatable({}, {})\nfunction filter(pkt) return t ~= nil end\n');
    const r = luapf(['compile', script, '-o', join(tmp, 'x.wasm')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${script}:1:11: `);
    expect(existsSync(join(tmp, 'x.wasm'))).toBe(false);
  });

  it('--dump prints what each pass made', () => {
    for (const stage of ['parse', 'unroll', 'check', 'ir', 'wat']) {
      const r = luapf(['compile', 'examples/icmp-echo.lua', '--dump', stage]);
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(50);
    }
    expect(luapf(['compile', 'examples/icmp-echo.lua', '--dump', 'ir']).stdout).toMatch(/func .*filter/);
    expect(luapf(['compile', 'examples/icmp-echo.lua', '--dump', 'wat']).stdout).toMatch(/\(export "filter_batch"/);
  });

  it('--dump unroll shows the AST after constant loops are unrolled, which parse does not', () => {
    const script = join(tmp, 'unroll.lua');
    writeFileSync(script, 'local PORTS = {22, 80}\nfunction filter(pkt)\n  for _, p in ipairs(PORTS) do\n    if #pkt == p then return true end\n  end\n  return false\nend\n');
    const parsed = luapf(['compile', script, '--dump', 'parse']);
    const unrolled = luapf(['compile', script, '--dump', 'unroll']);
    expect(parsed.status).toBe(0);
    expect(unrolled.status).toBe(0);
    expect(parsed.stdout).toMatch(/ForGenericStatement/);
    expect(unrolled.stdout).not.toMatch(/ForGenericStatement/);
  });

  it('--engine wasm on a script outside the subset fails with the reasons', () => {
    const r = luapf(['run', join(tmp, 'meta.lua'), join(CORPUS, 'ssh.pcap'), '--engine', 'wasm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot be compiled/);
  });
});
