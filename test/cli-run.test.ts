// `luapf run`'s inputs, outputs and flags through the built binary, as a
// tcpdump user meets them (issue 15): -w/-F with mixed link types, inputs
// checked before filtering, input errors as one line naming the file with
// --json still printed, structured --json, the progress line, -c, -e,
// --print and short usage errors.
import { pcapHeader } from './support/capture-helpers.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../runtime/capture/read.js';
import { CORPUS, REPO } from './support/paths.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

function luapf(args: string[], options: { input?: Buffer; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO, input: options.input, encoding: 'buffer', maxBuffer: 64 << 20,
    env: { ...process.env, LUAPF_PROGRESS: '', ...options.env },
  });
  return { status: r.status, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), raw: r.stdout };
}

/** Nothing that is the input's fault may show a stack trace or "internal error". */
function noTrace(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|\n\s+at |ENOENT: ENOENT/);
}

const corpus = (f: string) => join(CORPUS, f);
const v4 = corpus('v4.pcap');
const sll = corpus('sll.pcap');
const ssh = corpus('ssh.pcap');

/** A classic pcap of LINKTYPE 147 (USER0), which layer 3 cannot strip: 3 packets, first record at offset 24. */
function user0Capture(path: string): string {
  const header = pcapHeader(147);
  const records = [0, 1, 2].map((i) => {
    const r = Buffer.alloc(16 + 40);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(40, 8);
    r.writeUInt32LE(40, 12);
    r[16] = 0x45;
    return r;
  });
  writeFileSync(path, Buffer.concat([header, ...records]));
  return path;
}

let tmp: string;
beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  tmp = mkdtempSync(join(tmpdir(), 'luapf-cli-run-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('-w and -F with captures of several link types', () => {
  it('classic pcap with mixed link types is refused before filtering anything, exit 2, suggesting -F pcapng', () => {
    const out = join(tmp, 'mixed.pcap');
    const r = luapf(['run', 'examples/tcp-port.lua', v4, sll, ssh, '-w', out]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/classic pcap holds one link type.*1 ETHERNET.*113 LINUX_SLL.*-F pcapng/);
    expect(existsSync(out)).toBe(false);
    noTrace(r.stderr);
  });

  it('-F pcapng keeps every accepted packet of every capture, link types included', () => {
    const out = join(tmp, 'mixed-F.pcap');
    const r = luapf(['run', 'examples/tcp-port.lua', v4, sll, ssh, '-w', out, '-F', 'pcapng', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.captures.map((c: { packets: number }) => c.packets)).toEqual([43, 518, 54]);
    const back = readCaptureFile(out);
    expect(back.info.format).toBe('pcapng');
    expect(back.records).toHaveLength(doc.total.accepted);
    expect(back.records.filter((p) => p.linkType === 113)).toHaveLength(doc.captures[1].accepted);
    if (hasTshark) {
      expect(execFileSync('tshark', ['-r', out], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n')).toHaveLength(doc.total.accepted);
    }
  });

  it('the format follows the -w extension: .pcapng writes pcapng, others and - write classic pcap', () => {
    const ng = join(tmp, 'b.pcapng');
    expect(luapf(['run', 'examples/tcp-port.lua', v4, sll, '-w', ng, '-q']).status).toBe(0);
    expect(readFileSync(ng).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const pcapFromNg = join(tmp, 'one-type.pcap');
    // a pcapng input of one link type fits a classic pcap
    expect(luapf(['run', 'examples/tcp-port.lua', corpus('be_test010.pcapng'), '-w', pcapFromNg, '--layer', '2']).status).toBe(0);
    expect(readCaptureFile(pcapFromNg).info.format).toBe('pcap');
    const dash = luapf(['run', 'examples/tcp-port.lua', v4, '-w', '-']);
    expect(dash.status).toBe(0);
    expect(dash.raw.readUInt32LE(0)).toBe(0xa1b23c4d);
    const forced = join(tmp, 'forced.pcapng');
    expect(luapf(['run', 'examples/tcp-port.lua', v4, '-w', forced, '-F', 'pcap']).status).toBe(0);
    expect(readCaptureFile(forced).info.format).toBe('pcap');
  });

  it('every interface of a pcapng counts: two link types in one file, and stdin, are refused for classic pcap', () => {
    const r = luapf(['run', 'examples/tcp-port.lua', corpus('pcapng-example.pcapng'), '-w', join(tmp, 'x.pcap')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/1 ETHERNET.*113 LINUX_SLL/);
    const piped = luapf(['run', 'examples/tcp-port.lua', v4, '-', '-w', '-'], { input: readFileSync(sll) });
    expect(piped.status).toBe(2);
    expect(piped.raw).toHaveLength(0);
    expect(piped.stderr).toMatch(/113 LINUX_SLL \(<stdin>\)/);
  });

  it('stdin peeked for its header is still read in full', () => {
    const r = luapf(['run', 'examples/tcp-port.lua', '-', '-w', '-'], { input: readFileSync(sll) });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/<stdin>\s+518\s+483/);
    const out = join(tmp, 'stdin.pcap');
    writeFileSync(out, r.raw);
    expect(readCaptureFile(out).records).toHaveLength(483);
  });
});

describe('inputs are checked before any packet is filtered', () => {
  it('a missing capture or a directory: one line each, exit 1, nothing filtered', () => {
    const r = luapf(['run', 'examples/tcp-port.lua', v4, 'no-such.pcap', CORPUS, '--json']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`luapf: no-such.pcap: No such file or directory\nluapf: ${CORPUS}: Is a directory\n`);
  });

  it('a missing or directory script likewise', () => {
    expect(luapf(['run', 'no-such.lua', v4]).stderr).toBe('luapf: no-such.lua: No such file or directory\n');
    const dir = join(tmp, 'dir.lua');
    mkdirSync(dir, { recursive: true });
    const r = luapf(['run', dir, v4]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`luapf: ${dir}: Is a directory\n`);
  });

  it('an output that cannot be created fails before the run; an output over an input is refused', () => {
    const r = luapf(['run', 'examples/tcp-port.lua', v4, '-w', join(tmp, 'no-dir', 'x.pcap')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`luapf: ${join(tmp, 'no-dir', 'x.pcap')}: No such file or directory\n`);
    const copy = join(tmp, 'v4-copy.pcap');
    writeFileSync(copy, readFileSync(v4));
    const over = luapf(['run', 'examples/tcp-port.lua', copy, '-w', copy]);
    expect(over.status).toBe(2);
    expect(readFileSync(copy)).toEqual(readFileSync(v4));
  });
});

describe('input errors: one line naming the file and offset, --json still printed', () => {
  for (const engine of ['auto', 'lua']) {
    it(`an unsupported link type between two good captures (engine ${engine})`, () => {
      const bad = user0Capture(join(tmp, 'user0.pcap'));
      const r = luapf(['run', 'examples/tcp-port.lua', v4, bad, ssh, '--json', '--engine', engine]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^luapf: .*user0\.pcap: offset 24: unsupported link type 147 .*--layer 2/);
      noTrace(r.stderr);
      const doc = JSON.parse(r.stdout);
      expect(doc.captures.map((c: { packets: number }) => c.packets)).toEqual([43, 0, 54]);
      expect(doc.captures[1].readError).toMatchObject({ offset: 24 });
      expect(doc.total.packets).toBe(97);
      // at layer 2 the same capture is fine
      expect(luapf(['run', 'examples/tcp-port.lua', bad, '--layer', '2', '--engine', engine]).status).toBe(0);
    });
  }

  it('an empty stdin is a capture error, not a crash', () => {
    const r = luapf(['run', 'examples/tcp-port.lua', '-', '--json'], { input: Buffer.alloc(0) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^luapf: <stdin>: offset 0: empty file/);
    noTrace(r.stderr);
    expect(JSON.parse(r.stdout).captures[0].readError.offset).toBe(0);
  });
});

describe('--json', () => {
  it('first errors are objects with capture, packet, file, line, column and message', () => {
    const script = join(tmp, 'nil-field.lua');
    writeFileSync(script, 'function filter(pkt)\n  return pkt:layout{ x = {0, 8} }.y + 1 > 0\nend\n');
    const r = luapf(['run', script, v4, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.engine).toBe('wasm');
    expect(doc.firstErrors[0]).toEqual({
      capture: v4, packet: 1, file: script, line: 2, column: expect.any(Number), message: expect.stringMatching(/arithmetic on a nil value/),
    });
    const lua = JSON.parse(luapf(['run', script, v4, '--json', '--engine', 'lua']).stdout);
    expect(lua.firstErrors[1]).toMatchObject({ capture: v4, packet: 2, file: script, line: 2 });
  });

  it('reasons name the file; seconds and packetsPerSecond per capture and in all', () => {
    const script = join(tmp, 'meta.lua');
    writeFileSync(script, 'local t = setmetatable({}, {})\nfunction filter(pkt) return #pkt > 100 end\n');
    const doc = JSON.parse(luapf(['run', script, v4, ssh, '--json']).stdout);
    expect(doc.engine).toBe('lua');
    expect(doc.reasons[0]).toMatchObject({ file: script, line: 1, column: expect.any(Number), message: expect.stringContaining('setmetatable') });
    for (const c of [...doc.captures, doc.total]) {
      expect(c.seconds).toBeGreaterThan(0);
      expect(c.packetsPerSecond).toBe(Math.round(c.packets / c.seconds));
    }
  });
});

describe('progress on stderr', () => {
  it('is drawn when forced (as on a terminal) and cleared; never when stderr is not a terminal', () => {
    const forced = luapf(['run', 'examples/tcp-port.lua', corpus('many-protocols.pcap'), v4, '--json'], { env: { LUAPF_PROGRESS: '1' } });
    expect(forced.status).toBe(0);
    expect(forced.stderr).toMatch(/^\r\x1b\[K\[1\/2\] .*many-protocols\.pcap {2}[\d.]+ [kM]?B of [\d.]+ MB {2}\d+%/);
    expect(forced.stderr.endsWith('\r\x1b[K')).toBe(true);
    JSON.parse(forced.stdout);
    const plain = luapf(['run', 'examples/tcp-port.lua', corpus('many-protocols.pcap')]);
    expect(plain.stderr).toBe('');
    expect(luapf(['run', 'examples/tcp-port.lua', v4, '-q'], { env: { LUAPF_PROGRESS: '1' } }).stderr).toBe('');
  });
});

describe('flags', () => {
  it('-c N stops after N packets in all, on either engine, and says so', () => {
    for (const engine of ['wasm', 'lua']) {
      const doc = JSON.parse(luapf(['run', 'examples/tcp-port.lua', v4, ssh, sll, '-c', '50', '--json', '--engine', engine]).stdout);
      expect(doc.total.packets).toBe(50);
      expect(doc.captures.map((c: { packets: number }) => c.packets)).toEqual([43, 7]);
      expect(doc.stoppedAfter).toBe(50);
    }
    const text = luapf(['run', 'examples/tcp-port.lua', v4, '-c', '5', '-w', join(tmp, 'five.pcap')]);
    expect(text.stdout).toMatch(/stopped after 5 packets/);
    expect(readCaptureFile(join(tmp, 'five.pcap')).records.length).toBeLessThanOrEqual(5);
    expect(luapf(['run', 'examples/tcp-port.lua', v4, '-c', '0']).status).toBe(2);
  });

  it('-e: an expression, a body, or a whole script; positions are in the text given', () => {
    const expr = JSON.parse(luapf(['run', '-e', 'pkt:layout{ proto = {72, 8} }.proto == 17', v4, '--json']).stdout);
    expect(expr.filter).toBe('-e');
    expect(expr.engine).toBe('wasm');
    expect(expr.total.accepted).toBeGreaterThan(0);
    // (the interpreter for the other readings: compiling each new text costs seconds on a busy machine)
    const body = JSON.parse(luapf(['run', '-e', 'local v = pkt:layout{ proto = {72, 8} }\nreturn v.proto == 17', v4, '--json', '--engine', 'lua']).stdout);
    expect(body.total).toMatchObject({ packets: expr.total.packets, accepted: expr.total.accepted });
    const whole = JSON.parse(luapf(['run', '-e', 'function filter(pkt) return #pkt > 1000 end', v4, ssh, '--json', '--engine', 'lua']).stdout);
    expect(whole.captures).toHaveLength(2);
    const syntax = luapf(['run', '-e', '#pkt >', v4]);
    expect(syntax.status).toBe(1);
    expect(syntax.stderr).toMatch(/^luapf: -e:1:7: /);
    const runtime = JSON.parse(luapf(['run', '-e', '#pkt > 0 and pkt.x + 1', v4, '--json']).stdout);
    expect(runtime.firstErrors[0]).toMatchObject({ file: '-e', line: 1, column: 14 });
    const reasons = JSON.parse(luapf(['run', '-e', 'setmetatable({}, {}) ~= nil', v4, '--json']).stdout);
    expect(reasons.reasons[0]).toMatchObject({ file: '-e', line: 1, column: 1 });
  });

  it('--print: one line per accepted packet on stdout, the summary on stderr; refused with -w -', () => {
    const r = luapf(['run', 'examples/tcp-port.lua', v4, '--print']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(41);
    for (const line of lines) expect(line).toMatch(/^.*v4\.pcap#\d+ \d+\.\d{9} length \d+ accept$/);
    expect(r.stderr).toMatch(/v4\.pcap\s+43\s+41/);
    // the copying path (interpreter) numbers and times packets as the zero-copy one does
    expect(luapf(['run', 'examples/tcp-port.lua', v4, '--print', '--engine', 'lua']).stdout).toBe(r.stdout);
    const both = luapf(['run', 'examples/tcp-port.lua', v4, '-w', '-', '-v']);
    expect(both.status).toBe(2);
    expect(both.stderr).toBe("luapf run: -w - and --print would both write to standard output\nsee 'luapf help run'\n");
  });

  it('usage errors are one line and a hint, exit 2', () => {
    for (const args of [['run', v4, '--layer', '4'], ['run'], ['run', 'examples/tcp-port.lua'], ['run', 'x.lua', v4, '--frob'], ['run', 'examples/tcp-port.lua', v4, '-F', 'pcapng']]) {
      const r = luapf(args);
      expect(r.status, args.join(' ')).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(2);
      expect(lines[0]).toMatch(/^luapf run: /);
      expect(lines[1]).toBe("see 'luapf help run'");
    }
    expect(luapf(['frobnicate']).stderr).toBe("luapf: unknown command 'frobnicate'\nsee 'luapf --help'\n");
    const help = luapf(['help', 'run']);
    expect(help.status).toBe(0);
    for (const flag of ['-F, --format', '-c, --count', '-e, --script', '-v, --print']) expect(help.stdout).toContain(flag);
  });
});
