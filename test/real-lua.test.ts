// Issue 13's proof: the corpus of realistic filters in test/filters/real/
// (ordinary dynamic Lua: parsers, records, closures, varargs, pcall, ...)
// over a fixed set of corpus captures, packet by packet.
//   (a) the Lua engine gives the verdicts of Debian's lua5.4 running the
//       same script through test/independent/harness.lua (skipped, saying
//       so, without lua5.4);
//   (b) a filter that compiles gives, compiled, the interpreter's verdicts
//       (accept / reject / error) on every packet;
//   (c) a ratchet: test/filters/real/status.json records which filters
//       compile (and the first reason of those that do not). The test fails
//       if a filter listed as compiling no longer does, or if one compiles
//       that the file does not list as compiling; record progress with
//       `UPDATE_STATUS=1 npx vitest run test/real-lua.test.ts`. A compiled
//       filter known to disagree with the interpreter (a compiler bug) has
//       a `knownWrong` note there, written by hand: (b) then expects the
//       disagreement, and fails once it is gone so the note is removed.
// Every filter must also accept some but not all packets of some capture.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packetSetFromRecords, type PacketSet } from '../runtime/bench/measure.js';
import { parseCapture } from '../runtime/capture/read.js';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { EngineUnavailableError, loadEngine } from '../runtime/engine/load.js';
import { CORPUS, REPO } from './support/paths.js';
import { hasLua54 } from './support/tools.js';

const DIR = join(REPO, 'test', 'filters', 'real');
const STATUS_FILE = join(DIR, 'status.json');
const HARNESS = join(REPO, 'test', 'independent', 'harness.lua');
const UPDATE = process.env.UPDATE_STATUS === '1';
const hasLua = hasLua54;

/** Chosen to exercise the corpus: TLS, DNS (UDP, TCP, mDNS), HTTP, SIP/RTP, STUN, NTP, QUIC, DHCP, SSH, IP options, IPv6 extension headers, fragments, and several link types. */
const CAPTURES = [
  'many-protocols.pcap', 'DnsPackets.pcap', 'dns_udp.pcap', 'dns_tcp.pcap', 'tls.pcap', 'tls1_3.pcap', 'v4.pcap',
  'v6.pcap', 'sip-rtp.pcap', 'whatsapp.pcap', 'whatsapp_login_call.pcap', 'ssh.pcap', 'ssh.cap', 'ssh_packets.pcap',
  'ipv4-options.pcap', 'ip4_fragments.pcap', 'icmpv6.pcap', 'IGMP_V2.pcap', 'raw_ip.pcap', 'sll.pcap',
  'many_interfaces-1.pcapng', 'quic_handshake_truncated.pcap', 'print-flags.pcap', 'be_test010.pcapng',
  'VlanPackets.pcap', 'ipv6-routing-header.pcap',
];

const filters = readdirSync(DIR).filter((f) => f.endsWith('.lua')).sort();

interface Status {
  compiles: boolean;
  /** the first reason `luapf check` gives, when it does not compile */
  reason?: string;
  /** compiles but disagrees with the interpreter: the known compiler bug (written by hand) */
  knownWrong?: string;
}
type StatusFile = Record<string, Status>;
const recorded: StatusFile = (() => {
  try {
    return JSON.parse(readFileSync(STATUS_FILE, 'utf8')) as StatusFile;
  } catch {
    return {};
  }
})();
const observed: StatusFile = {};

const NAME: Record<number, string> = { [REJECT]: 'reject', [ACCEPT]: 'accept', [ERROR]: 'error' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ------------------------------------------------------------ the independent harness

interface HarnessCapture { name: string; packets: number; errors: number; accepted: number[] }

function parseHarness(out: string): HarnessCapture[] {
  const rows: HarnessCapture[] = [];
  for (const line of out.trim().split('\n')) {
    if (line.startsWith('accepted:')) {
      rows[rows.length - 1]!.accepted = line.slice(9).trim().split(' ').filter(Boolean).map(Number);
      continue;
    }
    const [name, packets, , , errors] = line.split('\t');
    rows.push({ name: name!, packets: +packets!, errors: +errors!, accepted: [] });
  }
  return rows;
}

// The harness runs beside the in-process engines, two at a time: stdout goes
// to a file so that a child never blocks on a pipe while the tests compute.
let tmp = '';
const harnessRuns = new Map<string, Promise<HarnessCapture[]>>();
const queue: (() => void)[] = [];
let running = 0;
function startHarness(file: string): void {
  harnessRuns.set(file, new Promise((resolve, reject) => {
    const go = () => {
      running++;
      const out = join(tmp, `${file}.out`);
      const fd = openSync(out, 'w');
      const child = spawn('lua5.4', [HARNESS, '--list', join(DIR, file), ...CAPTURES.map((c) => join(CORPUS, c))],
        { stdio: ['ignore', fd, 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
      child.on('close', (code) => {
        closeSync(fd);
        running--;
        queue.shift()?.();
        if (code !== 0) reject(new Error(`harness exited ${code}: ${stderr}`));
        else resolve(parseHarness(readFileSync(out, 'latin1')));
      });
    };
    if (running < 2) go();
    else queue.push(go);
  }));
}

let sets: PacketSet[];
beforeAll(() => {
  sets = CAPTURES.map((f) => packetSetFromRecords(f, parseCapture(readFileSync(join(CORPUS, f)), f).records));
  if (hasLua) {
    tmp = mkdtempSync(join(tmpdir(), 'luapf-real-'));
    for (const f of filters) startHarness(f);
  }
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------ the engines

async function verdicts(path: string, engine: 'lua' | 'wasm'): Promise<Uint8Array[]> {
  const filter = await loadEngine({ path, engine });
  try {
    return sets.map((set) => {
      const v = new Uint8Array(set.count);
      filter.filterBatch(set, v);
      return v;
    });
  } finally {
    filter.close();
  }
}

/** Compiled verdicts, or why the filter does not compile. */
async function compiled(path: string): Promise<{ verdicts: Uint8Array[] } | { reason: string }> {
  try {
    return { verdicts: await verdicts(path, 'wasm') };
  } catch (e) {
    if (e instanceof EngineUnavailableError) return { reason: e.reasons[0] ?? e.message };
    return { reason: `internal: ${(e as Error).message.split('\n')[0]}` };
  }
}

function mismatches(a: Uint8Array[], b: Uint8Array[], names: [string, string]): string[] {
  const out: string[] = [];
  sets.forEach((set, s) => {
    for (let i = 0; i < set.count && out.length < 5; i++) {
      if (a[s]![i] !== b[s]![i]) {
        const p = set.bytes.subarray(set.offsets[i], set.offsets[i]! + set.lengths[i]!);
        out.push(`${set.name}#${i + 1}: ${names[0]} ${NAME[a[s]![i]!]}, ${names[1]} ${NAME[b[s]![i]!]}; pkt ${hex(p.subarray(0, 64))}`);
      }
    }
  });
  return out;
}

// ------------------------------------------------------------ the tests

it('the corpus has at least 40 filters, each opening with a comment naming it', () => {
  expect(filters.length).toBeGreaterThanOrEqual(40);
  for (const f of filters) {
    const text = readFileSync(join(DIR, f), 'latin1');
    expect(text.startsWith(`-- ${f}: `), f).toBe(true);
    expect(text, f).toMatch(/\nfunction filter\(pkt/);
  }
});

describe('filters of test/filters/real over the corpus', () => {
  if (!hasLua) it.skip('lua5.4 is not installed: the comparison with the independent harness is skipped', () => {});

  it.each(filters)('%s', async (file) => {
    const path = join(DIR, file);
    const lua = await verdicts(path, 'lua');

    // Accepts a non-trivial, non-total share of some capture.
    const splits = sets.some((set, s) => {
      const n = lua[s]!.filter((v) => v === ACCEPT).length;
      return n > 0 && n < set.count;
    });
    expect(splits, `${file} accepts some but not all packets of some capture`).toBe(true);

    // (a) the interpreter against lua5.4
    if (hasLua) {
      const harness = await harnessRuns.get(file)!;
      const want = harness.map((h) => ({ capture: h.name, packets: h.packets, errors: h.errors, accepted: h.accepted }));
      const got = sets.map((set, s) => {
        const accepted: number[] = [];
        let errors = 0;
        lua[s]!.forEach((v, i) => {
          if (v === ACCEPT) accepted.push(i + 1);
          if (v === ERROR) errors++;
        });
        return { capture: set.name, packets: set.count, errors, accepted };
      });
      expect(got, `${file}: the Lua engine against lua5.4 (harness --list)`).toEqual(want);
    }

    // (b) compiled against interpreted
    const c = await compiled(path);
    if ('reason' in c) {
      observed[file] = { compiles: false, reason: c.reason };
      return;
    }
    const wrong = mismatches(c.verdicts, lua, ['wasm', 'lua']);
    const known = recorded[file]?.knownWrong;
    observed[file] = known !== undefined && wrong.length > 0 ? { compiles: true, knownWrong: known } : { compiles: true };
    if (known !== undefined) {
      console.log(`${file}: known compiled/interpreted disagreement (${known}): ${wrong.length > 0 ? wrong[0] : 'gone'}`);
      expect(wrong.length, `${file}: agrees now; remove its knownWrong note from status.json`).toBeGreaterThan(0);
    } else {
      expect(wrong, `${file}: compiled against interpreted`).toEqual([]);
    }
  }, 120_000);
});

// (c) runs last: the tests of a file run in order.
it('status.json ratchet: filters listed as compiling still compile, new compiling filters are listed', () => {
  const files = Object.keys(observed).sort();
  const n = files.filter((f) => observed[f]!.compiles).length;
  const histogram = new Map<string, number>();
  for (const f of files) {
    const r = observed[f]!.reason;
    if (r !== undefined) {
      const key = r.replace(/^\d+:\d+: /, '');
      histogram.set(key, (histogram.get(key) ?? 0) + 1);
    }
  }
  const top = [...histogram].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 8);
  console.log(`real-lua: ${n} of ${files.length} filters compile\n${top.map(([r, k]) => `  ${k}× ${r}`).join('\n')}`);
  if (files.length < filters.length) return;        // a filter failed above: that failure says why

  if (UPDATE) {
    const out: StatusFile = {};
    for (const f of files) out[f] = observed[f]!;
    writeFileSync(STATUS_FILE, `${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const regressed = files.filter((f) => recorded[f]?.compiles === true && !observed[f]!.compiles)
    .map((f) => `${f}: listed as compiling, now: ${observed[f]!.reason}`);
  const unlisted = files.filter((f) => observed[f]!.compiles && recorded[f]?.compiles !== true)
    .map((f) => `${f}: compiles now, status.json does not say so (UPDATE_STATUS=1 to record it)`);
  const missing = files.filter((f) => !(f in recorded)).map((f) => `${f}: missing from status.json (UPDATE_STATUS=1)`);
  const stale = Object.keys(recorded).filter((f) => !filters.includes(f)).map((f) => `${f}: in status.json, no such filter`);
  expect([...regressed, ...unlisted, ...missing, ...stale]).toEqual([]);
});
