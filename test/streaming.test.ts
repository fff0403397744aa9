// `luapf run` streams: over a capture much larger than its memory budget
// the process keeps a fixed footprint. A ~200 MB capture is written to a
// temp dir and run through the built CLI under /usr/bin/time; the bound is
// on peak RSS (memory), not on time.
import { pcapHeader } from './support/capture-helpers.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.js';
import { REPO, SHARED } from './support/paths.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');
const TIME = '/usr/bin/time';
const PACKETS = 140_000;
const FRAME = 1400;
const RSS_BOUND_KB = 200 * 1024;

let tmp: string;
beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  tmp = mkdtempSync(join(tmpdir(), 'luapf-stream-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Classic pcap, Ethernet; every third packet IPv6, the rest IPv4 (so `ip` accepts 2 in 3). */
function writeBigCapture(path: string): number {
  const fd = openSync(path, 'w');
  const header = pcapHeader(1);
  writeSync(fd, header);
  const PER_CHUNK = 1000;
  const chunk = Buffer.alloc(PER_CHUNK * (16 + FRAME));
  let accepted = 0;
  for (let done = 0; done < PACKETS; done += PER_CHUNK) {
    for (let i = 0; i < PER_CHUNK; i++) {
      const n = done + i;
      const at = i * (16 + FRAME);
      chunk.writeUInt32LE(1_700_000_000 + Math.floor(n / 1000), at);
      chunk.writeUInt32LE((n % 1000) * 1000, at + 4);
      chunk.writeUInt32LE(FRAME, at + 8);
      chunk.writeUInt32LE(FRAME, at + 12);
      const v6 = n % 3 === 2;
      chunk.writeUInt16BE(v6 ? 0x86dd : 0x0800, at + 16 + 12);
      chunk[at + 16 + 14] = v6 ? 0x60 : 0x45;
      if (!v6) accepted++;
    }
    writeSync(fd, chunk);
  }
  closeSync(fd);
  return accepted;
}

describe('luapf run streams large captures', () => {
  it.skipIf(!existsSync(TIME))('keeps peak RSS bounded over a ~200 MB capture (compiled filter)', async () => {
    const capture = join(tmp, 'big.pcap');
    const want = writeBigCapture(capture);
    const compiled = await compile(readFileSync(join(SHARED, 'bench', 'filters', 'ip.lua'), 'latin1'), { file: 'ip.lua' });
    expect(compiled.ok).toBe(true);
    const wasm = join(tmp, 'ip.wasm');
    writeFileSync(wasm, compiled.ok ? compiled.wasm : new Uint8Array());
    const r = spawnSync(TIME, ['-f', 'maxrss=%M', process.execPath, CLI, 'run', wasm, capture, '--json', '-q'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.total.packets).toBe(PACKETS);
    expect(summary.total.accepted).toBe(want);
    const rss = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(RSS_BOUND_KB);

    // Writing the accepted packets too: the writer holds the reader back
    // instead of buffering the whole output.
    const out = join(tmp, 'accepted.pcap');
    const w = spawnSync(TIME, ['-f', 'maxrss=%M', process.execPath, CLI, 'run', wasm, capture, '-w', out, '--json', '-q'], { encoding: 'utf8' });
    expect(w.status, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout).total.accepted).toBe(want);
    expect(statSync(out).size).toBeGreaterThan(want * 16);
    expect(Number(/maxrss=(\d+)/.exec(w.stderr)?.[1])).toBeLessThan(RSS_BOUND_KB);
  }, 120_000);
});
