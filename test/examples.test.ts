// The example filters in examples/ over real captures and over a small
// synthetic capture of edge cases. Expected counts come from
// test/support/examples-expected.ts (tshark and an independent Lua 5.4 harness,
// never luapf). Three checks per example:
//   1. the independent harness still gives the recorded counts (so the
//      table stays reproducible; skipped without lua5.4);
//   2. luapf's engines give the recorded counts over the corpus;
//   3. both give the per-packet verdicts of the synthetic capture, whose
//      answers follow from how each packet was built.
import { pcapHeader } from './support/capture-helpers.js';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScript } from '../compiler/index.js';
import { loadEngine } from '../runtime/engine/load.js';
import { runCaptures } from '../runtime/run/run.js';
import type { EngineName } from '../runtime/engine/filter.js';
import { EXPECTED } from './support/examples-expected.js';
import { CORPUS, REPO as ROOT } from './support/paths.js';
import { hasLua54 as hasLua, tsharkCheck } from './support/tools.js';

const HARNESS = path.join(ROOT, 'test/independent/harness.lua');
const example = (name: string) => path.join(ROOT, 'examples', `${name}.lua`);

const ENGINES: EngineName[] = ['lua', 'wasm'];
// Every example is in the compiled subset (layouts, segments, integers,
// constant tables, strings and constant patterns): they must compile.
const COMPILED = new Set(['tcp-port', 'icmp-echo', 'rtp-payload-type', 'ssh-version', 'ssh-banner', 'dns-blocklist',
  'http-request', 'tls-sni-blocklist', 'ids-signatures', 'rate-limit', 'port-knock', 'source-budget']);
const runsOn = (name: string, engine: EngineName) => engine === 'lua' || COMPILED.has(name);

const TSHARK_PREFS = ['ip.defragment:FALSE', 'ipv6.defragment:FALSE', 'tcp.desegment_tcp_streams:FALSE', 'rtp.heuristic_rtp:TRUE']
  .flatMap((p) => ['-o', p]);

interface HarnessLine { name: string; packets: number; accepted: number; rejected: number; errors: number; list?: number[] }

function runHarness(script: string, captures: string[], list = false): HarnessLine[] {
  const args = [HARNESS, ...(list ? ['--list'] : []), script, ...captures];
  const r = spawnSync('lua5.4', args, { encoding: 'latin1', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`harness failed: ${r.stderr}`);
  const out: HarnessLine[] = [];
  for (const line of r.stdout.trim().split('\n')) {
    if (line.startsWith('accepted:')) {
      out[out.length - 1]!.list = line.slice(9).trim().split(' ').filter(Boolean).map(Number);
      continue;
    }
    const [name, packets, accepted, rejected, errors] = line.split('\t');
    out.push({ name: name!, packets: +packets!, accepted: +accepted!, rejected: +rejected!, errors: +errors! });
  }
  return out;
}

// ------------------------------------------------------------ synthetic capture

const bytes = (...parts: (number[] | string | Uint8Array)[]): number[] =>
  parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : [...p]));
const u16 = (v: number) => [v >> 8, v & 0xff];

function ipv4(protocol: number, payload: number[], opts: { fragOffset?: number; ihl?: number } = {}): number[] {
  const ihl = opts.ihl ?? 5;
  const total = ihl * 4 + payload.length;
  const header = [0x40 | ihl, 0, ...u16(total), 0x12, 0x34, ...u16(opts.fragOffset ?? 0), 64, protocol, 0, 0,
    10, 0, 0, 1, 10, 0, 0, 2];
  while (header.length < ihl * 4) header.push(1);           // NOP options
  return [...header, ...payload];
}
function ipv6(nextHeader: number, payload: number[]): number[] {
  const addr = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0)];
  return [0x60, 0, 0, 0, ...u16(payload.length), nextHeader, 64, ...addr, 1, ...addr, 2, ...payload];
}
const tcp = (src: number, dst: number, payload: number[] = []) =>
  [...u16(src), ...u16(dst), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0, ...payload];
const udp = (src: number, dst: number, payload: number[]) => [...u16(src), ...u16(dst), ...u16(8 + payload.length), 0, 0, ...payload];
const qname = (name: string) => bytes(...name.split('.').map((l) => bytes([l.length], l)), [0]);
const dnsQuery = (name: number[], flags = 0x0100) => bytes(u16(0xbeef), u16(flags), u16(1), u16(0), u16(0), u16(0), name, u16(1), u16(1));
/** A TLS 1.2 record holding a ClientHello: session id, two suites, a supported_groups extension, then server_name. */
function clientHello(name: string): number[] {
  const host = bytes(name);
  const sni = bytes(u16(0), u16(host.length + 5), u16(host.length + 3), [0], u16(host.length), host);
  const exts = bytes(u16(10), u16(4), u16(2), u16(29), sni);
  const body = bytes([3, 3], Array(32).fill(7), [4, 1, 2, 3, 4], u16(4), [0x13, 1, 0xc0, 0x2f], [1, 0], u16(exts.length), exts);
  const hs = bytes([1, 0], u16(body.length), body);
  return bytes([22, 3, 1], u16(hs.length), hs);
}
const rtp = (marker: number, type: number, csrc = 0, extra = 0) =>
  bytes([0x80 | csrc], [(marker << 7) | type], u16(7), [0, 0, 0, 9], [1, 2, 3, 4], Array(extra).fill(0xaa));

/** Network-layer packets (LINKTYPE_RAW); the comment gives the point of each. */
const SYNTHETIC: number[][] = [
  /* 1 */ ipv4(6, tcp(40000, 22, bytes('SSH-2.0-OpenSSH_6.4 Debian-5\r\n'))),   // the §1 target
  /* 2 */ ipv4(6, tcp(22, 40000, bytes('SSH-2.0-OpenSSH_6.4\r\n'))),            // no comment: §1 pattern misses
  /* 3 */ ipv6(6, tcp(22, 40001, bytes('SSH-1.99-OpenSSH_6.4p1 x\r\n'))),      // another version
  /* 4 */ ipv4(6, tcp(40002, 2222, bytes('SSH-2.0-OpenSSH_6.4 \r\n')), { ihl: 6 }), // other port, IPv4 options
  /* 5 */ ipv4(6, tcp(80, 40003, bytes('HTTP/1.1 200 OK\r\n'))),
  /* 6 */ ipv4(6, [0, 22, 0, 22, ...bytes('SSH-2.0-x y\r\n')], { fragOffset: 185 }), // non-first fragment
  /* 7 */ ipv4(17, udp(5353, 53, dnsQuery(qname('WWW.Example.COM')))),         // blocked, case-insensitive
  /* 8 */ ipv4(17, udp(5353, 53, dnsQuery(qname('notexample.com')))),          // suffix, not a label boundary
  /* 9 */ ipv6(17, udp(5353, 53, dnsQuery(qname('ads.TCPDUMP.org')))),         // blocked parent, IPv6
  /* 10 */ ipv4(17, udp(5353, 53, dnsQuery([0xc0, 0x0c]))),                    // compression pointer
  /* 11 */ ipv4(17, udp(5353, 53, dnsQuery(qname('www.example.com')).slice(0, 12 + 9))), // cut mid-name
  /* 12 */ ipv4(17, udp(53, 5353, dnsQuery(qname('example.com'), 0x8180))),   // a response
  /* 13 */ ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1]),                                  // echo request
  /* 14 */ ipv4(1, [3, 1, 0, 0, 0, 0, 0, 0, ...ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1])]), // unreachable quoting an echo
  /* 15 */ ipv6(58, [129, 0, 0, 0, 0, 1, 0, 1]),                               // ICMPv6 echo reply
  /* 16 */ ipv6(0, [58, 0, 5, 2, 0, 0, 1, 0, 128, 0, 0, 0, 0, 1, 0, 1]),       // echo behind hop-by-hop
  /* 17 */ ipv6(17, udp(5004, 5004, rtp(1, 96, 0, 20))),                       // RTP marker, dynamic PT
  /* 18 */ ipv4(17, udp(5004, 5006, rtp(1, 34, 0, 20))),                       // H.263: static PT
  /* 19 */ ipv4(17, udp(5004, 5006, rtp(1, 111, 15))),                         // CSRC list missing
  /* 20 */ ipv4(17, udp(53, 5004, rtp(1, 96, 0, 20))),                         // privileged port
  /* 21 */ ipv4(6, []).slice(0, 10),                                           // cut IPv4 header
  /* 22 */ [],                                                                 // empty pkt
  /* 23 */ ipv6(6, [...u16(80)]),                                              // TCP header cut after source port
  /* 24 */ ipv4(6, tcp(40004, 80, bytes('GET /a HTTP/1.1\r\nUser-Agent: x\r\nhOsT:  News.BBC.co.uk:8080\r\n\r\n'))), // watched, any case, port
  /* 25 */ ipv6(6, tcp(40005, 8080, bytes('POST /x HTTP/1.0\r\nHost: bbc.co.uk.evil.net\r\n\r\n'))), // suffix elsewhere
  /* 26 */ ipv4(6, tcp(40006, 80, bytes('GET / HTTP/1.1\r\n\r\nHost: www.ynet.co.il\r\n'))), // Host after the header block
  /* 27 */ ipv4(6, tcp(40007, 443, clientHello('www.Google.com'))),            // blocked SNI, any case
  /* 28 */ ipv6(6, tcp(40008, 443, clientHello('notgoogle.com'))),             // suffix, not a label boundary
  /* 29 */ ipv4(6, tcp(40009, 443, clientHello('ads.facebook.com').slice(0, 70))), // ClientHello cut before the SNI
  /* 30 */ ipv4(6, tcp(40010, 80, bytes('BREW /pot HTTP/1.1\r\nHost: bbc.co.uk\r\n\r\n'))), // unknown method
];

/** 1-based numbers of the synthetic packets each example accepts. */
const SYNTHETIC_ACCEPTS: Record<string, number[]> = {
  'ssh-version': [2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30],
  'ssh-banner': [1, 2, 3, 4],
  'tcp-port': [1, 2, 3, 5, 23, 24, 26, 30],
  'dns-blocklist': [1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30],
  'http-request': [24],
  'tls-sni-blocklist': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30],
  'icmp-echo': [13, 15],
  'rtp-payload-type': [17],
  // stateful (the packets are a second apart: the token bucket refills; 20 packets from 10.0.0.1, exactly the budget)
  'port-knock': [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30], // 1: SSH, no knock
  'source-budget': Array.from({ length: 30 }, (_, i) => i + 1),
  'rate-limit': Array.from({ length: 30 }, (_, i) => i + 1),
  'ids-signatures': [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30], // 3: SSH-1.99
};

function writePcap(file: string, packets: number[][]): void {
  const head = pcapHeader(101);
  const records = packets.map((p, i) => {
    const rec = Buffer.alloc(16 + p.length);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(p.length, 8);
    rec.writeUInt32LE(p.length, 12);
    Buffer.from(p).copy(rec, 16);
    return rec;
  });
  fs.writeFileSync(file, Buffer.concat([head, ...records]));
}

let tmpDir = '';
let synthetic = '';
beforeAll(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luapf-examples-'));
  synthetic = path.join(tmpDir, 'synthetic.pcap');
  writePcap(synthetic, SYNTHETIC);
});
afterAll(() => {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

// ------------------------------------------------------------ tests

it('every example has corpus expectations and synthetic verdicts', () => {
  const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.lua')).map((f) => f.slice(0, -4)).sort();
  expect(EXPECTED.map((e) => e.example).sort()).toEqual(files);
  expect(Object.keys(SYNTHETIC_ACCEPTS).sort()).toEqual(files);
  for (const e of EXPECTED) {
    expect(e.rows.length).toBeGreaterThanOrEqual(3);
    expect(e.rows.some((r) => r.accepted > 0 && r.accepted < r.packets), `${e.example}: a row that splits`).toBe(
      e.example !== 'ssh-version',                           // the §1 filter passes the whole corpus
    );
  }
});

describe.skipIf(!hasLua)('independent Lua 5.4 harness', () => {
  it('passes its data-library self-test (DESIGN.md §3 vectors)', () => {
    const r = spawnSync('lua5.4', [HARNESS, '--selftest'], { encoding: 'latin1' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('selftest ok');
  });

  for (const { example: name, rows } of EXPECTED) {
    it(`${name}: recorded corpus counts`, () => {
      const got = runHarness(example(name), rows.map((r) => path.join(CORPUS, r.capture)));
      expect(got.map(({ name: capture, packets, accepted, errors }) => ({ capture, packets, accepted, errors }))).toEqual(
        rows.map((r) => ({ ...r, errors: 0 })),
      );
    });
  }

  it('synthetic capture: per-packet verdicts', () => {
    for (const [name, accepts] of Object.entries(SYNTHETIC_ACCEPTS)) {
      const [line] = runHarness(example(name), [synthetic], true);
      expect({ name, errors: line!.errors, accepted: line!.list }).toEqual({ name, errors: 0, accepted: accepts });
    }
  });
});

describe.skipIf(!tsharkCheck)('tshark (LUAPF_TSHARK_CHECK=1)', () => {
  for (const { example: name, tsharkExpr, rows } of EXPECTED) {
    // stateful examples without a display filter: test/stateful.test.ts cross-checks them
    it.skipIf(tsharkExpr === undefined)(`${name}: display filter counts`, () => {
      for (const row of rows) {
        const r = spawnSync('tshark', [...TSHARK_PREFS, '-r', path.join(CORPUS, row.capture), '-Y', tsharkExpr!], { encoding: 'latin1', maxBuffer: 1 << 26 });
        expect(r.status, r.stderr).toBe(0);
        const matches = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
        expect({ capture: row.capture, accepted: matches }).toEqual({ capture: row.capture, accepted: row.accepted });
      }
    }, 300_000);
  }
});

it('every example compiles (luapf check says wasm)', () => {
  for (const { example: name } of EXPECTED) {
    const r = checkScript(fs.readFileSync(example(name), 'latin1'), { file: `${name}.lua` });
    expect({ name, engine: r.engine, errors: r.errors }).toEqual({ name, engine: COMPILED.has(name) ? 'wasm' : 'lua', errors: [] });
  }
});

describe.each(ENGINES)('luapf engine %s', (engine) => {
  for (const { example: name, rows } of EXPECTED) {
    it.skipIf(!runsOn(name, engine))(`${name}: corpus counts`, async () => {
      const filter = await loadEngine({ path: example(name), engine });
      try {
        const summary = await runCaptures(filter, rows.map((r) => path.join(CORPUS, r.capture)), { layer: 3, onError: 'drop' });
        expect(summary.firstErrors).toEqual([]);
        expect(summary.captures.map((c) => ({ capture: path.basename(c.name), packets: c.packets, accepted: c.accepted, readError: c.readError })))
          .toEqual(rows.map((r) => ({ capture: r.capture, packets: r.packets, accepted: r.accepted, readError: undefined })));
      } finally {
        filter.close();
      }
    });
  }

  it('synthetic capture: per-packet verdicts', async () => {
    for (const [name, accepts] of Object.entries(SYNTHETIC_ACCEPTS)) {
      if (!runsOn(name, engine)) continue;
      const filter = await loadEngine({ path: example(name), engine });
      const accepted: number[] = [];
      try {
        const summary = await runCaptures(filter, [synthetic], {
          layer: 3,
          onVerdict: (_capture, n, verdict) => { if (verdict === 'accept') accepted.push(n); },
        });
        expect({ name, errors: summary.firstErrors, packets: summary.total.packets }).toEqual({ name, errors: [], packets: SYNTHETIC.length });
      } finally {
        filter.close();
      }
      expect({ name, accepted }).toEqual({ name, accepted: accepts });
    }
  });
});
