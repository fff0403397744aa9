// The command line as a user drives it: the built CLI in dist/ (npm test
// builds it first), real captures, exit codes, files written.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../runtime/capture/read.js';
import { CORPUS, REPO } from './support/paths.js';
import { hasTshark } from './support/tools.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');

function luapf(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, input, encoding: 'buffer', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), raw: r.stdout };
}

let tmp: string;
beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  tmp = mkdtempSync(join(tmpdir(), 'luapf-cli-'));
});

const ssh = join(CORPUS, 'ssh.pcap');

describe('luapf run', () => {
  it('counts packets of a capture and exits 0', () => {
    const r = luapf(['run', 'examples/ssh-version.lua', ssh, '--engine', 'lua']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/engine lua/);
    expect(r.stdout).toMatch(/ssh\.pcap\s+54\s+54\s+0\s+0/);
  });

  it('--json gives one document with per-capture and total counts', () => {
    const r = luapf(['run', 'examples/tcp-port.lua', ssh, join(CORPUS, 'v4.pcap'), '--json', '--engine', 'lua']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.captures).toHaveLength(2);
    expect(doc.total.packets).toBe(54 + 43);
    expect(doc.total.accepted + doc.total.rejected).toBe(doc.total.packets);
    expect(doc.captures[0].accepted).toBe(54);
  });

  it('-w writes the accepted frames as a capture that reads back', () => {
    const out = join(tmp, 'accepted.pcap');
    const r = luapf(['run', 'examples/tcp-port.lua', join(CORPUS, 'v4.pcap'), '-w', out, '--json', '--engine', 'lua']);
    expect(r.status).toBe(0);
    const accepted = JSON.parse(r.stdout).total.accepted;
    expect(accepted).toBeGreaterThan(0);
    expect(readCaptureFile(out).records).toHaveLength(accepted);
    if (hasTshark) {
      const lines = execFileSync('tshark', ['-r', out]).toString().trim().split('\n');
      expect(lines).toHaveLength(accepted);
    }
  });

  it('reads standard input and writes standard output with -', () => {
    const input = readFileSync(ssh);
    const r = luapf(['run', 'examples/ssh-version.lua', '-', '-w', '-', '--engine', 'lua'], input);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/<stdin>\s+54\s+54/);
    const path = join(tmp, 'stdout.pcap');
    writeFileSync(path, r.raw);
    expect(readCaptureFile(path).records).toHaveLength(54);
  });

  it('--verdicts writes one line per packet', () => {
    const path = join(tmp, 'verdicts.tsv');
    const r = luapf(['run', 'examples/tcp-port.lua', join(CORPUS, 'arp.pcap'), '--verdicts', path, '--engine', 'lua']);
    expect(r.status).toBe(0);
    const lines = readFileSync(path, 'latin1').trim().split('\n');
    expect(lines).toEqual([`${join(CORPUS, 'arp.pcap')}\t1\treject`, `${join(CORPUS, 'arp.pcap')}\t2\treject`]);
  });

  it('a filter that fails on every packet counts every packet as an error and still exits 0', () => {
    const script = join(tmp, 'fails.lua');
    writeFileSync(script, 'function filter(pkt)\n  return pkt.nothing + 1\nend\n');
    const r = luapf(['run', script, ssh, '--json', '--engine', 'lua']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.total).toMatchObject({ packets: 54, accepted: 0, rejected: 54, errors: 54 });
    expect(doc.firstErrors[0]).toMatchObject({ capture: ssh, packet: 1, file: script, line: 2 });
    const pass = JSON.parse(luapf(['run', script, ssh, '--json', '--on-error', 'pass', '--engine', 'lua']).stdout);
    expect(pass.total).toMatchObject({ packets: 54, accepted: 54, rejected: 0, errors: 54 });
  });

  it('a syntax error names FILE:LINE and exits 1', () => {
    const script = join(tmp, 'broken.lua');
    writeFileSync(script, 'function filter(pkt)\n  return pkt ==\nend\n');
    const r = luapf(['run', script, ssh]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/broken\.lua:3(:\d+)?: /);
  });

  it('a bad capture names the file and offset, keeps the packets before it, exits 1', () => {
    const bad = join(CORPUS, 'pcap-invalid-version-1.pcap');
    const r = luapf(['run', 'examples/ssh-version.lua', ssh, bad, '--json', '--engine', 'lua']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('pcap-invalid-version-1.pcap: offset 4');
    const doc = JSON.parse(r.stdout);
    expect(doc.captures[0].packets).toBe(54);
    expect(doc.captures[1].readError.offset).toBe(4);

    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, readFileSync(ssh).subarray(0, 5000));
    const c = luapf(['run', 'examples/ssh-version.lua', cut, '--json', '--engine', 'lua']);
    expect(c.status).toBe(1);
    const cutDoc = JSON.parse(c.stdout);
    expect(cutDoc.captures[0].packets).toBeGreaterThan(0);
    expect(cutDoc.captures[0].packets).toBeLessThan(54);
    expect(c.stderr).toMatch(/cut\.pcap: offset \d+/);
  });

  it('usage errors exit 2; --help exits 0', () => {
    expect(luapf(['run']).status).toBe(2);
    expect(luapf(['run', 'examples/ssh-version.lua', ssh, '--layer', '4']).status).toBe(2);
    expect(luapf(['frobnicate']).status).toBe(2);
    const help = luapf(['run', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--on-error/);
  });

  it('a missing filter file is bad input, exit 1', () => {
    const r = luapf(['run', 'no-such-filter.lua', ssh]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no-such-filter\.lua/);
  });
});
