// --verify: the pair of engines is a Filter that records each packet on
// which they differ; the CLI maps those to capture and packet number.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCEPT, ERROR, REJECT, type Filter, type PacketBatch } from '../runtime/engine/filter.js';
import { VerifyingFilter } from '../runtime/engine/verify.js';
import { CORPUS, REPO } from './support/paths.js';

/** A filter whose verdict is a function of the packet's first byte. */
function byFirstByte(decide: (b: number) => number, label: string): Filter {
  return {
    engine: 'lua',
    filterBatch(batch: PacketBatch, verdicts: Uint8Array) {
      const errors = [];
      for (let i = 0; i < batch.count; i++) {
        verdicts[i] = decide(batch.bytes[batch.offsets[i]]);
        if (verdicts[i] === ERROR) errors.push({ index: i, message: `${label} failed` });
      }
      return errors;
    },
    close() {},
  };
}

function batchOf(firstBytes: number[]): PacketBatch {
  const n = firstBytes.length;
  return {
    bytes: Uint8Array.from(firstBytes), offsets: Uint32Array.from(firstBytes.map((_, i) => i)),
    lengths: new Uint32Array(n).fill(1), timestampsSec: new Float64Array(n), timestampsNsec: new Uint32Array(n), count: n,
  };
}

describe('VerifyingFilter', () => {
  it('keeps the compiled verdicts and records every packet where the engines differ, across batches', () => {
    const compiled = byFirstByte((b) => (b % 2 ? ACCEPT : REJECT), 'wasm');
    const interpreted = byFirstByte((b) => (b === 3 ? ERROR : b % 2 ? ACCEPT : REJECT), 'lua');
    const pair = new VerifyingFilter(compiled, interpreted);
    const verdicts = new Uint8Array(4);
    pair.filterBatch(batchOf([1, 2, 3, 4]), verdicts);
    expect([...verdicts]).toEqual([ACCEPT, REJECT, ACCEPT, REJECT]);
    pair.filterBatch(batchOf([3, 5]), verdicts);
    expect(pair.disagreements).toEqual([
      { packet: 2, wasm: 'accept', lua: 'error (lua failed)' },
      { packet: 4, wasm: 'accept', lua: 'error (lua failed)' },
    ]);
  });
});

describe('luapf run --verify', () => {
  it('reports no disagreement for a compiled example and exits 0', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'dist', 'runtime', 'cli', 'main.js'), 'run', '--verify', '--json',
      'examples/icmp-echo.lua', join(CORPUS, 'VlanPackets.pcap'), join(CORPUS, 'v6.pcap')], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.disagreements).toEqual([]);
    expect(doc.total.accepted).toBe(20 + 16);
  });

  it('refuses a script that does not compile, since there is nothing to verify', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'luapf-verify-')), 'meta.lua');
    writeFileSync(script, 'local t = setmetatable({}, {})\nfunction filter(pkt) return t ~= nil end\n');
    const r = spawnSync(process.execPath, [join(REPO, 'dist', 'runtime', 'cli', 'main.js'), 'run', '--verify',
      script, join(CORPUS, 'ssh.pcap')], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot be compiled/);
  });
});
