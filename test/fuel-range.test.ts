// The fuel budget's range, 1 to 2^31 − 1 steps per call, held in one place
// (runtime/api/options.ts) for the library and the CLI, and by the compiler
// itself: a larger value used to be accepted and then wrap in the module's
// i32 fuel_limit (3000000000 became -1294967296: every packet out of fuel),
// 9007199254740993 was read as ...992, and `--engine lua` crashed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.js';
import { MAX_FUEL, OptionsError, checkFuel, parseFuel } from '../runtime/api/options.js';
import { compileFilter, loadFilter } from '../runtime/index.js';
import { CORPUS, REPO } from './support/paths.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');
const luapf = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'latin1' });
const SCRIPT = 'function filter(pkt) return #pkt > 0 end';
const BAD = ['0', '-1', '2147483648', '3000000000', '9007199254740993', '1.5', '1e6', '0x10', ' 5', '', 'many'];

beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
});

describe('fuel range', () => {
  it('is 1 .. 2^31-1, the range of the ABI fuel_limit i32', () => {
    expect(MAX_FUEL).toBe(2 ** 31 - 1);
    expect(checkFuel(undefined)).toBe(1_000_000);
    expect(checkFuel(MAX_FUEL)).toBe(MAX_FUEL);
    for (const v of [0, MAX_FUEL + 1, 1.5, Number.NaN, '5', 2n]) expect(() => checkFuel(v)).toThrow(OptionsError);
  });

  it('CLI text is read exactly: digits only, no rounding', () => {
    expect(parseFuel('1')).toBe(1);
    expect(parseFuel('2147483647')).toBe(MAX_FUEL);
    expect(parseFuel('007')).toBe(7);
    for (const s of BAD) expect(() => parseFuel(s), s).toThrow(OptionsError);
  });

  it('the library refuses it up front with OptionsError', async () => {
    await expect(loadFilter(SCRIPT, { fuel: 3_000_000_000 })).rejects.toBeInstanceOf(OptionsError);
    await expect(loadFilter(SCRIPT, { fuel: 3_000_000_000, engine: 'lua' })).rejects.toBeInstanceOf(OptionsError);
    await expect(compileFilter(SCRIPT, { fuel: 2 ** 31 })).rejects.toBeInstanceOf(OptionsError);
  });

  it('compile() throws RangeError rather than wrap', async () => {
    await expect(compile(SCRIPT, { file: 'f.lua', fuel: 3_000_000_000 })).rejects.toBeInstanceOf(RangeError);
    await expect(compile(SCRIPT, { file: 'f.lua', fuel: 0 })).rejects.toBeInstanceOf(RangeError);
    const r = await compile(SCRIPT, { file: 'f.lua', fuel: MAX_FUEL, wat: true });
    expect(r.ok && r.wat).toContain(`(global $fuel_limit (mut i32) (i32.const ${MAX_FUEL}))`);
  });

  it.each(['run', 'compile'])('luapf %s --fuel out of range is a one-line usage error, exit 2', (command) => {
    for (const value of ['3000000000', '9007199254740993', '0', '1.5']) {
      const args = command === 'run'
        ? ['run', '-q', 'examples/tcp-port.lua', join(CORPUS, 'ssh.pcap'), '--fuel', value]
        : ['compile', 'examples/tcp-port.lua', '--dump', 'wat', '--fuel', value];
      for (const engine of command === 'run' ? ['auto', 'lua'] : ['']) {
        const r = luapf(engine ? [...args, '--engine', engine] : args);
        expect(r.status, `${args.join(' ')} ${engine}`).toBe(2);
        expect(r.stdout).toBe('');
        const [first, ...rest] = r.stderr.trimEnd().split('\n');
        expect(first).toBe(`luapf ${command}: option '--fuel <n>' argument '${value}' is invalid. expected an integer from 1 to 2147483647`);
        expect(rest).toEqual([`see 'luapf help ${command}'`]);
      }
    }
  });

  it('luapf run --fuel 2147483647 runs on both engines', () => {
    for (const engine of ['wasm', 'lua']) {
      const r = luapf(['run', '-q', '--json', 'examples/tcp-port.lua', join(CORPUS, 'ssh.pcap'), '--fuel', '2147483647', '--engine', engine]);
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect([doc.engine, doc.total.errors]).toEqual([engine, 0]);
    }
  });
});
