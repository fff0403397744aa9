// `luapf run` on Lunatik scripts, through the built CLI, over corpus
// captures: -w writes the rewritten packets (examples/lunatik/dns-rewrite.lua),
// --inject the resets examples/lunatik/tcp-reset.lua sends, both read back
// by tshark (fields, valid checksums) and by luapf; --verdicts names, marks
// and flags, --log, and the path taken from pcapng direction flags.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../runtime/capture/read.js';
import { writeCapture } from '../runtime/capture/api.js';
import { CORPUS, REPO } from './support/paths.js';
import { hasTshark } from './support/tools.js';

const CLI = join(REPO, 'dist', 'runtime', 'cli', 'main.js');
const CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];
const BAD_CHECKSUM = 'ip.checksum.status==2 || udp.checksum.status==2 || tcp.checksum.status==2';

function luapf(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'latin1', maxBuffer: 64 << 20, env: { ...process.env, LUAPF_PROGRESS: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** tshark's fields (tab-separated) per packet matching `filter`. */
function tshark(capture: string, filter: string, fields: string[]): string[][] {
  const r = spawnSync('tshark', [...CHECKSUMS, '-r', capture, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  // one line a packet, empty when its fields are
  return r.stdout === '' ? [] : r.stdout.replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
}

const example = (name: string) => join(REPO, 'examples', 'lunatik', `${name}.lua`);
let tmp: string;
beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
  tmp = mkdtempSync(join(tmpdir(), 'luapf-lunatik-out-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// responses the rewriter must change, as tshark sees them in the input
const REWRITE_EXPR = 'ip && !icmp && udp.srcport == 53 && dns.flags.response == 1 && dns.count.answers > 0 && ' +
  'ip.flags.mf == 0 && ip.frag_offset == 0 && dns.qry.name matches "(?i)(^|\\\\.)(google\\\\.com|gstatic\\\\.com)$"';

describe('dns-rewrite.lua: -w writes the rewritten responses', () => {
  for (const [capture, rewritten] of [['DnsPackets.pcap', 36], ['many-protocols.pcap', 8]] as const) {
    it(`${capture}: ${rewritten} responses rewritten, checksums valid, everything else byte for byte`, () => {
      const input = join(CORPUS, capture);
      const out = join(tmp, `rw-${capture}`);
      const r = luapf(['run', example('dns-rewrite'), input, '-w', out, '--json', '--verdicts', join(tmp, `rw-${capture}.tsv`)]);
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.lunatik).toMatchObject({ rewritten, injected: 0, verdicts: { ACCEPT: doc.total.packets } });
      const tsv = readFileSync(join(tmp, `rw-${capture}.tsv`), 'latin1').split('\n').filter(Boolean).map((l) => l.split('\t'));
      const flagged = tsv.filter((c) => c[5] === 'rewritten').map((c) => Number(c[1]));
      expect(flagged).toHaveLength(rewritten);

      // luapf reads the output back: same packets, only the flagged ones changed
      const before = readCaptureFile(input).records;
      const after = readCaptureFile(out).records;
      expect(after).toHaveLength(before.length);
      const changed = after.flatMap((rec, i) => (Buffer.compare(rec.data, before[i].data) !== 0 ? [i + 1] : []));
      expect(changed).toEqual(flagged);
      // and the rewriter finds nothing more to change in its own output
      const again = join(tmp, `rw2-${capture}`);
      expect(luapf(['run', example('dns-rewrite'), out, '-w', again]).status).toBe(0);
      expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
    }, 60_000);

    it.skipIf(!hasTshark)(`${capture}: tshark finds the same responses, sinkholed answers with TTL 60, no bad checksum`, () => {
      const input = join(CORPUS, capture);
      const out = join(tmp, `rw-${capture}`);
      if (!existsSync(out)) expect(luapf(['run', example('dns-rewrite'), input, '-w', out]).status).toBe(0);
      const want = tshark(input, REWRITE_EXPR, ['frame.number']).map((f) => Number(f[0]));
      expect(want).toHaveLength(rewritten);
      expect(tshark(out, BAD_CHECKSUM, ['frame.number'])).toEqual([]);
      const rows = tshark(out, `frame.number in {${want.join(', ')}}`,
        ['frame.number', 'dns.count.answers', 'dns.resp.type', 'dns.resp.ttl', 'dns.a', 'udp.checksum.status']);
      expect(rows.map((f) => Number(f[0]))).toEqual(want);
      for (const [, count, types, ttls, as, udpStatus] of rows) {
        const n = Number(count);
        expect(ttls.split(',').slice(0, n)).toEqual(Array(n).fill('60'));
        const answerAs = types.split(',').slice(0, n).filter((t) => t === '1').length;
        expect(as.split(',').slice(0, answerAs)).toEqual(Array(answerAs).fill('192.0.2.1'));
        expect(udpStatus).toBe('1');   // "Good": the script computed it again
      }
    }, 60_000);
  }
});

describe('tcp-reset.lua: --inject writes the resets', () => {
  for (const [capture, resets] of [['tls.pcap', 2], ['v6.pcap', 1], ['many-protocols.pcap', 20]] as const) {
    it(`${capture}: ${resets} resets, read back by luapf at their triggers' times`, () => {
      const input = join(CORPUS, capture);
      const inject = join(tmp, `rst-${capture}.pcapng`);
      const r = luapf(['run', example('tcp-reset'), input, '--inject', inject, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.total.rejected).toBe(resets);
      expect(doc.lunatik).toMatchObject({ injected: resets, rewritten: 0, verdicts: { DROP: resets } });
      const injected = readCaptureFile(inject).records;
      expect(injected).toHaveLength(resets);
      const before = readCaptureFile(input).records;
      const dropped = JSON.parse(luapf(['run', example('tcp-reset'), input, '--json', '--verdicts', join(tmp, 'v.tsv')]).stdout);
      expect(dropped.total.rejected).toBe(resets);
      const triggers = readFileSync(join(tmp, 'v.tsv'), 'latin1').split('\n').filter((l) => /\tDROP\t/.test(l)).map((l) => Number(l.split('\t')[1]));
      expect(triggers.map((n) => [before[n - 1].tsSec, before[n - 1].tsNsec])).toEqual(injected.map((p) => [p.tsSec, p.tsNsec]));
      // the resets are not connection attempts: the script lets them all pass
      const rerun = JSON.parse(luapf(['run', example('tcp-reset'), inject, '--json']).stdout);
      expect(rerun.total).toMatchObject({ packets: resets, accepted: resets });
    }, 60_000);

    it.skipIf(!hasTshark)(`${capture}: tshark reads RST+ACK answering each SYN, checksums valid`, () => {
      const input = join(CORPUS, capture);
      const inject = join(tmp, `rst-${capture}.pcapng`);
      if (!existsSync(inject)) expect(luapf(['run', example('tcp-reset'), input, '--inject', inject]).status).toBe(0);
      expect(tshark(inject, BAD_CHECKSUM, ['frame.number'])).toEqual([]);
      const fields = ['eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport'];
      const rows = tshark(inject, 'tcp', ['frame.comment', 'tcp.flags.str', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.checksum.status', ...fields]);
      expect(rows).toHaveLength(resets);
      const triggers = rows.map(([comment]) => Number(/^skb:forward\(\) by .*#(\d+)$/.exec(comment)![1]));
      const syns = new Map(tshark(input, `frame.number in {${triggers.join(', ')}}`, ['frame.number', 'tcp.flags.str', 'tcp.seq_raw', ...fields])
        .map(([n, ...f]) => [Number(n), f]));
      for (const [i, [, flags, seq, ack, len, status, ...mine]] of rows.entries()) {
        const syn = syns.get(triggers[i])!;
        expect(syn[0]).toMatch(/S·$/);
        expect(flags).toMatch(/A·R··$/);
        expect([seq, ack, len, status]).toEqual(['0', String((Number(syn[1]) + 1) % 2 ** 32), '0', '1']);
        const [eSrc, eDst, src4, dst4, src6, dst6, sport, dport] = syn.slice(2);
        expect(mine).toEqual([eDst, eSrc, dst4, src4, dst6, src6, dport, sport]);
      }
    }, 60_000);
  }
});

describe('--verdicts, --log and direction flags', () => {
  it('--verdicts adds verdict name, mark and what happened; --log prefixes printed lines with the packet', () => {
    const v4 = join(CORPUS, 'v4.pcap');
    const log = join(tmp, 'marks.log');
    const ok = luapf(['run', example('udp-port-marks'), v4, '--verdicts', '-', '--log', log]);
    expect(ok.status, ok.stderr).toBe(0);
    const lines = ok.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
    expect(lines).toHaveLength(43);
    expect(lines.filter((c) => c[2] === 'reject').every((c) => c[3] === 'DROP' && c[4] === '0x1' && c[5] === '-')).toBe(true);
    expect(lines.filter((c) => c[2] === 'reject')).toHaveLength(1);
    expect(readFileSync(log, 'latin1')).toBe('');
    const printing = luapf(['run', '--lunatik', '-e', 'local nf = require("netfilter") nf.register{ pf = 2, hooknum = 1, priority = 0, ' +
      'hook = function(d) print("len", #d) return 1 end }', v4, '-c', '2', '--log', log]);
    expect(printing.status, printing.stderr).toBe(0);
    const lengths = readCaptureFile(v4).records.slice(0, 2).map((rec) => rec.data.length - 14);
    expect(readFileSync(log, 'latin1')).toBe(`${v4}#1: len\t${lengths[0]}\n${v4}#2: len\t${lengths[1]}\n`);
  });

  it('--inject and --log are refused for an ordinary filter (exit 2)', () => {
    const r = luapf(['run', join(REPO, 'examples', 'tcp-port.lua'), join(CORPUS, 'v4.pcap'), '--inject', join(tmp, 'x.pcapng')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--inject is for Lunatik scripts/);
  });

  it.skipIf(!hasTshark)('pcapng direction flags choose the path: outbound packets meet LOCAL_OUT, inbound LOCAL_IN; -w keeps the flags', async () => {
    const src = readCaptureFile(join(CORPUS, 'v4.pcap')).records;
    const flagged = join(tmp, 'dir.pcapng');
    await writeCapture(flagged, src.map((rec, i) => ({ ...rec, epbFlags: i % 3 === 0 ? 1 : i % 3 === 1 ? 2 : undefined })), { format: 'pcapng' });
    const direction = (capture: string) => tshark(capture, 'frame', ['frame.packet_flags_direction']).map((f) => String(Number(f[0] || 0)));
    const dirs = direction(flagged);
    expect(dirs.filter((d) => d === '2')).toHaveLength(Math.floor((src.length + 1) / 3));
    const script = 'local nf = require("netfilter") nf.register{ pf = 1, hooknum = 3, priority = 0, hook = function() return 0 end }';
    const out = join(tmp, 'dir-out.pcapng');
    const r = luapf(['run', '--lunatik', '-e', script, flagged, '--json', '-w', out]);
    expect(r.status, r.stderr).toBe(0);
    // LOCAL_OUT drops: outbound packets, and unflagged ones (--path all meets every hook)
    const doc = JSON.parse(r.stdout);
    expect(doc.total.rejected).toBe(dirs.filter((d) => d !== '1').length);
    expect(direction(out)).toEqual(dirs.filter((d) => d === '1'));
    const inOnly = JSON.parse(luapf(['run', '--lunatik', '-e', script, flagged, '--json', '--path', 'in']).stdout);
    expect(inOnly.total.rejected).toBe(dirs.filter((d) => d === '2').length);
  });
});
