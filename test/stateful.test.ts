// The stateful examples of issue 5 (port knocking, per-source budget, token
// bucket over capture time, IDS signature set), packet by packet.
//
// Expected verdicts never come from luapf:
//   - over corpus captures, from the independent Lua 5.4 harness
//     (test/independent/harness.lua --list, which passes the capture time
//     as filter's second argument); test/independent/stateful-tshark.py
//     re-derived the same per-packet lists from tshark's dissection when the
//     rows were recorded (LUAPF_TSHARK_CHECK=1 re-runs it here);
//   - over small synthetic captures, from how each packet was built (the
//     comment next to it), and the harness must agree with those too.
// The engine an example runs on is whatever checkScript says today: when the
// compiler accepts one, its compiled engine is held to the same verdicts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScript } from '../compiler/index.js';
import { createCaptureWriter } from '../runtime/capture/write.js';
import type { EngineName } from '../runtime/engine/filter.js';
import { loadEngine } from '../runtime/engine/load.js';
import { runCaptures } from '../runtime/run/run.js';
import { CORPUS, REPO } from './support/paths.js';
import { hasLua54 as hasLua, hasPython3, tsharkCheck as tsharkCheckOptIn } from './support/tools.js';

const HARNESS = path.join(REPO, 'test/independent/harness.lua');
const TSHARK_CHECK = path.join(REPO, 'test/independent/stateful-tshark.py');
const example = (name: string) => path.join(REPO, 'examples', `${name}.lua`);
const tsharkCheck = tsharkCheckOptIn && hasPython3;

/** Corpus captures per example: some where the state decides, some where it never does. */
const CORPUS_CAPTURES: Record<string, string[]> = {
  'port-knock': ['ssh.pcap', 'ssh.cap', 'v6.pcap', 'raw_ip.pcap'],
  'source-budget': ['ssh.pcap', 'v6.pcap', 'raw_ip.pcap', 'whatsapp.pcap', 'pcapng-example.pcapng'],
  'rate-limit': ['ssh.pcap', 'v6.pcap', 'raw_ip.pcap', 'nanosecs_big_endian.pcap', 'pcapng-example.pcapng'],
  'ids-signatures': ['ssh.cap', 'v6.pcap', 'sll.pcap', 'whatsapp.pcap', 'raw_ip.pcap', 'dns_udp.pcap', 'ssh_packets.pcap'],
};

// ------------------------------------------------------------ synthetic captures

const bytes = (...parts: (number[] | string)[]): number[] =>
  parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p));
const u16 = (v: number) => [v >> 8, v & 0xff];
type Addr = number[];
const v4 = (d: number, c = 0): Addr => [10, 0, c, d];
const v6 = (d: number): Addr => [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), d];

function ip(src: Addr, protocol: number, payload: number[], fragOffset = 0): number[] {
  if (src.length === 16) return [0x60, 0, 0, 0, ...u16(payload.length), protocol, 64, ...src, ...v6(99), ...payload];
  return [0x45, 0, ...u16(20 + payload.length), 0, 1, ...u16(fragOffset), 64, protocol, 0, 0, ...src, 10, 9, 9, 9, ...payload];
}
const tcp = (src: Addr, dport: number, payload = '', sport = 40000) =>
  ip(src, 6, bytes(u16(sport), u16(dport), [0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0], payload));
const udp = (src: Addr, dport: number, payload = '') =>
  ip(src, 17, bytes(u16(40000), u16(dport), u16(8 + payload.length), [0, 0], payload));

const T0 = 1_700_000_000n * 1_000_000_000n;                 // ns
const MS = 1_000_000n;
interface Synthetic { packets: { at: bigint; pkt: number[] }[]; accepts: number[] }
const at = (t: bigint, pkt: number[]) => ({ at: t, pkt });
const seq = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

const A = v4(1), B = v4(2), C = v6(1);
const SYNTHETIC: Record<string, Synthetic> = {
  'port-knock': {
    packets: [
      /* 1 */ at(T0, tcp(A, 22)),                            // SSH before knocking
      /* 2 */ at(T0, udp(A, 7000)),                          // knock 1 (UDP counts), swallowed
      /* 3 */ at(T0, tcp(A, 8000)),                          // knock 2
      /* 4 */ at(T0, tcp(A, 8000)),                          // retransmitted knock keeps its place
      /* 5 */ at(T0, udp(A, 9000)),                          // knock 3: A is open
      /* 6 */ at(T0, tcp(A, 22)),                            // SSH passes
      /* 7 */ at(T0, tcp(B, 7000)),
      /* 8 */ at(T0, tcp(B, 9000)),                          // out of order: B starts over
      /* 9 */ at(T0, tcp(B, 8000)),                          // not knock 1: still nothing
      /* 10 */ at(T0, tcp(B, 22)),                           // refused
      /* 11 */ at(T0, udp(C, 7000)),                         // IPv6 source, string key
      /* 12 */ at(T0, tcp(C, 8000)),
      /* 13 */ at(T0, tcp(C, 9000)),
      /* 14 */ at(T0, tcp(C, 22)),                           // passes
      /* 15 */ at(T0, tcp(B, 80)),                           // unrelated traffic passes
      /* 16 */ at(T0, udp(B, 22)),                           // UDP 22 is not SSH
      /* 17 */ at(T0, ip(B, 6, bytes(u16(40000), u16(22)), 185)), // non-first fragment: no ports
      /* 18 */ at(T0, tcp(B, 40000, '', 22)),                // from port 22, to a client port
      /* 19 */ at(T0, ip(v4(4), 6, bytes(u16(40000)))),     // ports cut off: not SSH as far as we know
      /* 20 */ at(T0, []),                                   // empty pkt
      /* 21 */ at(T0, tcp(v4(1, 1), 22)),                    // 10.0.1.1 is not A
    ],
    accepts: [6, 14, 15, 16, 17, 18, 19, 20],
  },
  'source-budget': {
    packets: [
      ...seq(21).map(() => at(T0, udp(A, 53))),              // 1-20 pass, 21 is over budget
      at(T0, tcp(C, 80)),                                    // 22: IPv6 has its own count
      ...seq(999).map((i) => at(T0, udp(v4(i & 0xff, 1 + (i >> 8)), 53))), // 23-1021: 999 more sources, the table is full
      at(T0, udp(B, 53)),                                    // 1022: a new source evicts A, the first seen
      at(T0, udp(A, 53)),                                    // 1023: A starts over (and evicts C)
      at(T0, tcp(C, 80)),                                    // 1024: C too
      at(T0, []),                                            // 1025: no source address
    ],
    accepts: [...seq(20), ...seq(1004, 22)],
  },
  'rate-limit': {
    packets: [
      ...seq(7).map(() => at(T0, udp(A, 53))),               // 1-5: the burst, 6-7 dropped
      at(T0 + 100n * MS, udp(A, 53)),                        // 8: 100 ms = one token
      at(T0 + 100n * MS, udp(A, 53)),                        // 9: empty again
      at(T0 + 150n * MS, udp(A, 53)),                        // 10: half a token
      at(T0 + 200n * MS, udp(A, 53)),                        // 11: the halves add up
      at(T0 + 200n * MS, tcp(C, 80)),                        // 12: IPv6, its own full bucket
      at(T0 + 200n * MS - 1n, udp(A, 53)),                   // 13: clock one ns back: no refill
      at(T0 + 300n * MS - 1n, udp(A, 53)),                   // 14: one ns short of a token
      at(T0 + 300n * MS, udp(A, 53)),                        // 15: the last ns completes it
      ...seq(6).map(() => at(T0 + 10_000n * MS, udp(A, 53))), // 16-20 pass (full again), 21 dropped
      at(T0, []),                                            // 22: no source address
    ],
    accepts: [1, 2, 3, 4, 5, 8, 11, 12, 15, 16, 17, 18, 19, 20, 22],
  },
  'ids-signatures': {
    packets: [
      /* 1 */ at(T0, tcp(A, 80, 'GET /../../etc/passwd HTTP/1.1\r\n')), // plain signature
      /* 2 */ at(T0, ip(A, 6, bytes('..../etc/passwd....'), 185)),     // same bytes in a non-first fragment
      /* 3 */ at(T0, udp(C, 389, 'x${jndi:ldap://e/a}')),                // IPv6 UDP
      /* 4 */ at(T0, tcp(A, 80, 'GET /setup.exe HTTP/1.1\r\nHost: x\r\n')), // anchored pattern
      /* 5 */ at(T0, tcp(A, 80, ' GET /setup.exe HTTP/1.1\r\n')),       // not at the start
      /* 6 */ at(T0, tcp(A, 80, 'GET /setup.exe HTTP/1.1')),            // no CRLF
      /* 7 */ at(T0, tcp(A, 80, "id=1 UNION  SELECT x")),               // patterns are case-sensitive
      /* 8 */ at(T0, tcp(A, 80, 'id=1 union\t\tselect x')),             // %s+ spans tabs
      /* 9 */ at(T0, ip(A, 1, bytes([8, 0, 0, 0, 0, 1, 0, 1], '/etc/passwd'))), // ICMP is not checked
      /* 10 */ at(T0, udp(B, 22, 'SSH-1.99-Cisco-1.25\r\n')),           // the SSH 1 pattern
      /* 11 */ at(T0, udp(B, 53, bytes([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3], 'www', [7], 'tcpdump', [3], 'org', [0]))), // DNS name
      /* 12 */ at(T0, udp(B, 53, bytes([3], 'www', [7], 'tcpdump', [3], 'org', [1]))), // no root label after org
      /* 13 */ at(T0, tcp(A, 80, 'etc/passwd')),
      /* 14 */ at(T0, ip(A, 6, bytes(u16(40000), u16(80), Array(8).fill(0), [0xf0], '/etc/passwd'))), // data offset 60, cut
    ],
    accepts: [2, 5, 6, 7, 9, 12, 13, 14],
  },
};

let tmpDir = '';
const syntheticFile = (name: string) => path.join(tmpDir, `${name}.pcap`);
beforeAll(async () => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luapf-stateful-'));
  for (const [name, { packets }] of Object.entries(SYNTHETIC)) {
    const w = createCaptureWriter(syntheticFile(name), { linkType: 101, tsResolution: 'ns' }); // LINKTYPE_RAW
    for (const { at: t, pkt } of packets) {
      const data = new Uint8Array(pkt);
      w.write({ linkType: 101, tsSec: Number(t / 1_000_000_000n), tsNsec: Number(t % 1_000_000_000n), origLen: data.length, data });
    }
    await w.close();
  }
});
afterAll(() => {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

// ------------------------------------------------------------ verdict sources

interface Verdicts { packets: number; accepted: number[]; errors: number }

function harness(name: string, capture: string): Verdicts {
  const r = spawnSync('lua5.4', [HARNESS, '--list', example(name), capture], { encoding: 'latin1', maxBuffer: 1 << 24 });
  if (r.status !== 0 || r.stderr !== '') throw new Error(`harness failed: ${r.stderr}`);
  const [counts, list] = r.stdout.trim().split('\n');
  const [, packets, , , errors] = counts!.split('\t');
  return { packets: +packets!, accepted: list!.slice(9).trim().split(' ').filter(Boolean).map(Number), errors: +errors! };
}

async function luapf(name: string, capture: string, engine: EngineName): Promise<Verdicts> {
  const filter = await loadEngine({ path: example(name), engine });
  const accepted: number[] = [];
  let errors = 0;
  try {
    const summary = await runCaptures(filter, [capture], {
      onVerdict: (_c, n, verdict) => {
        if (verdict === 'accept') accepted.push(n);
        if (verdict === 'error') errors++;
      },
    });
    expect(summary.captures[0]?.readError).toBeUndefined();
    return { packets: summary.total.packets, accepted, errors };
  } finally {
    filter.close();
  }
}

// ------------------------------------------------------------ tests

const NAMES = Object.keys(CORPUS_CAPTURES);
const engineOf = new Map<string, 'wasm' | 'lua'>();
for (const name of NAMES) {
  const r = checkScript(fs.readFileSync(example(name), 'latin1'), { file: `${name}.lua` });
  engineOf.set(name, r.engine);
}

it('checkScript: each example parses; the engine it gets is recorded', () => {
  for (const name of NAMES) {
    const r = checkScript(fs.readFileSync(example(name), 'latin1'), { file: `${name}.lua` });
    expect({ name, errors: r.errors }).toEqual({ name, errors: [] });
    // a fallback must say why, so the compiler's missing pieces stay visible
    if (r.engine === 'lua') expect(r.reasons.length, name).toBeGreaterThan(0);
    else expect(r.reasons).toEqual([]);
  }
});

describe.skipIf(!hasLua)('synthetic captures: the harness gives the verdicts the packets were built for', () => {
  for (const name of NAMES) {
    it(name, () => {
      const { packets, accepts } = SYNTHETIC[name]!;
      expect(harness(name, syntheticFile(name))).toEqual({ packets: packets.length, accepted: accepts, errors: 0 });
    });
  }
});

describe.each(['lua', 'wasm'] as EngineName[])('luapf engine %s', (engine) => {
  for (const name of NAMES) {
    const runs = () => engine === 'lua' || engineOf.get(name) === 'wasm';
    it.skipIf(!runs())(`${name}: synthetic capture, packet by packet`, async () => {
      const { packets, accepts } = SYNTHETIC[name]!;
      expect(await luapf(name, syntheticFile(name), engine)).toEqual({ packets: packets.length, accepted: accepts, errors: 0 });
    });
    it.skipIf(!runs() || !hasLua)(`${name}: corpus captures, packet by packet as the harness`, async () => {
      for (const capture of CORPUS_CAPTURES[name]!) {
        const file = path.join(CORPUS, capture);
        const want = harness(name, file);
        expect(want.errors).toBe(0);
        expect({ capture, ...(await luapf(name, file, engine)) }).toEqual({ capture, ...want });
      }
    });
  }
});

describe.skipIf(!tsharkCheck || !hasLua)('tshark cross-check (LUAPF_TSHARK_CHECK=1)', () => {
  for (const name of NAMES) {
    it(`${name}: stateful-tshark.py gives the harness's verdicts`, () => {
      for (const capture of CORPUS_CAPTURES[name]!) {
        const file = path.join(CORPUS, capture);
        const r = spawnSync('python3', [TSHARK_CHECK, '--list', name, file], { encoding: 'latin1', maxBuffer: 1 << 24 });
        expect(r.status, r.stderr).toBe(0);
        const [, list] = r.stdout.trim().split('\n');
        const accepted = list!.slice(9).trim().split(' ').filter(Boolean).map(Number);
        expect({ capture, accepted }).toEqual({ capture, accepted: harness(name, file).accepted });
      }
    }, 120_000);
  }
});
