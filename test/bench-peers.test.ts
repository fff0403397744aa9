// npm run bench:peers (bench/side-by-side.ts) and its chart: libpcap beside
// luapf on the same capture when libpcap can be built here (pflua is never
// needed: its checkout is given by hand), the VLAN explanation of differing
// counts taken from libpcap itself, and the SVG's log scale.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { peersChart } from '../bench/chart.js';
import { findBpfBench, withVlanStripped, type PeerCell } from '../bench/peers.js';
import { REPO } from './support/paths.js';

const cell = (filter: string, capture: string, mpps: Record<string, number>): PeerCell => ({
  filter, expression: filter, capture, packets: 1, ratios: {}, countNotes: [],
  engines: Object.fromEntries(Object.entries(mpps).map(([e, v]) => [e, { rounds: [v], medianMpps: v, accepted: 1 }])),
});

describe('the side-by-side chart', () => {
  it('draws one bar per engine and cell on a log scale', () => {
    const svg = peersChart([cell('ip', 'a', { libpcap: 10, luapf: 100 }), cell('icmp', 'a', { libpcap: 1, luapf: 1000 })], ['libpcap', 'luapf'], 'T & <t>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('T &amp; &lt;t&gt;');
    const bars = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="6" height="([\d.]+)"/g)].map((m) => Number(m[2]));
    expect(bars).toHaveLength(4);
    // 1, 10, 100, 1000 Mpps over the decades 1..1000: heights in arithmetic progression
    const [a, b, c, d] = [bars[2]!, bars[0]!, bars[1]!, bars[3]!];
    expect(b - a).toBeCloseTo(c - b, 0);
    expect(d - c).toBeCloseTo(c - b, 0);
  });
});

describe('withVlanStripped', () => {
  it('states luapf\'s meaning (up to two tags stripped) in libpcap\'s language', () => {
    expect(withVlanStripped('icmp')).toBe('(icmp) or (vlan and ((icmp) or (vlan and (icmp))))');
  });
});

const bpf = (() => {
  try {
    return findBpfBench();
  } catch {
    return undefined;
  }
})();

describe.skipIf(!bpf)('npm run bench:peers (built), libpcap only', () => {
  it('measures libpcap and luapf on the same capture, cell by cell, and explains differing counts', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'luapf-peers-')), 'peers.json');
    const r = spawnSync(process.execPath, [join(REPO, 'dist', 'bench', 'side-by-side.js'), '--filters', 'ip,tcp-port-80', '--captures', 'many-protocols',
      '--rounds', '1', '--samples', '1', '--seconds', '0.01', '--out', out], { cwd: REPO, encoding: 'utf8', env: { ...process.env, LUAPF_PFLUA: '', LUAPF_DYNASM: '' } });
    expect(r.stderr).not.toMatch(/bench:peers:/);
    expect(r.status).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.engines).toEqual(['libpcap', 'luapf']);
    const [ip, port80] = doc.cells as PeerCell[];
    for (const c of [ip!, port80!]) {
      expect(c.engines.luapf!.medianMpps).toBeGreaterThan(0);
      expect(c.ratios.libpcap).toBeCloseTo(c.engines.luapf!.medianMpps / c.engines.libpcap!.medianMpps, 6);
    }
    // many-protocols has IPv4 frames behind one or two VLAN tags: luapf's `ip` sees them, libpcap's does not
    expect(ip!.engines.luapf!.accepted).toBeGreaterThan(ip!.engines.libpcap!.accepted);
    expect(ip!.countNotes[0]).toMatch(/VLAN-tagged frames .* also gives \d+/);
    expect(port80!.engines.luapf!.accepted).toBe(port80!.engines.libpcap!.accepted);
    expect(existsSync(out.replace(/json$/, 'svg'))).toBe(true);
    expect(r.stdout).toMatch(/^\| ip \| [\d.]+ \/ - \/ [\d.]+ \(-, [\d.]+\) \|$/m);
  }, 120_000);
});
