// `luapf compile`, `luapf check` and running the .wasm they make, through
// the built CLI as a user would.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO } from './paths.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');

function luapf(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'latin1' });
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
      'local n = 0',
      'local function counter() return function() n = n + 1 return n end end',
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
    for (const stage of ['parse', 'check', 'ir', 'wat']) {
      const r = luapf(['compile', 'examples/icmp-echo.lua', '--dump', stage]);
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(50);
    }
    expect(luapf(['compile', 'examples/icmp-echo.lua', '--dump', 'ir']).stdout).toMatch(/func .*filter/);
    expect(luapf(['compile', 'examples/icmp-echo.lua', '--dump', 'wat']).stdout).toMatch(/\(export "filter_batch"/);
  });

  it('--engine wasm on a script outside the subset fails with the reasons', () => {
    const r = luapf(['run', join(tmp, 'meta.lua'), join(CORPUS, 'ssh.pcap'), '--engine', 'wasm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot be compiled/);
  });
});
