// The pieces of `luapf run` that need no process: the progress line, the
// -w format choice, -e's readings and positions, --print lines, and
// peekCapture (headers read up front, stdin given back whole).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCapture, peekCapture } from '../runtime/capture/read.js';
import { formatBytes, formatDuration, formatProgress, Progress } from '../runtime/cli/progress.js';
import { checkOneLinkType, inlineScripts, outputFormat, outputHeader, RunInputError, shiftColumns } from '../runtime/cli/run-inputs.js';
import { compact, printLine, reasonObject } from '../runtime/cli/run-output.js';
import { splitErrorMessage } from '../runtime/engine/filter.js';
import { CORPUS } from './support/paths.js';

describe('progress line', () => {
  it('shows bytes of the total, percentage, rate and time left', () => {
    expect(formatProgress({ capture: 'big.pcap', index: 2, count: 3, bytes: 12_300_000, totalBytes: 49_200_000, packets: 250_000, seconds: 2 }))
      .toBe('[2/3] big.pcap  12.3 MB of 49.2 MB  25%  125k packets/s  0:06 left');
    // one capture of unknown size (a pipe): no percentage, no estimate
    expect(formatProgress({ capture: '<stdin>', index: 1, count: 1, bytes: 999, packets: 3_000_000, seconds: 1.5 }))
      .toBe('<stdin>  999 B  2.00M packets/s');
    expect(formatProgress({ capture: 'a', index: 1, count: 1, bytes: 0, totalBytes: 10, packets: 0, seconds: 0 })).toBe('a  0 B of 10 B  0%');
  });

  it('formats sizes, durations and rates for people', () => {
    expect([formatBytes(0), formatBytes(1000), formatBytes(1_234_567), formatBytes(5e12)]).toEqual(['0 B', '1.0 kB', '1.2 MB', '5.0 TB']);
    expect([formatDuration(0), formatDuration(75.4), formatDuration(3725)]).toEqual(['0:00', '1:15', '1:02:05']);
    expect([compact(999), compact(1234), compact(12_345), compact(999_600), compact(4.2e9)]).toEqual(['999', '1.23k', '12.3k', '1.00M', '4.20G']);
  });

  it('redraws at most every interval, sums finished captures, clears what it drew', () => {
    const written: string[] = [];
    const stream = { write: (s: string) => written.push(s), columns: 40 } as unknown as NodeJS.WriteStream;
    const p = new Progress([1000, 3000], stream, 60_000);
    p.update('a.pcap', 10, 500);
    p.update('a.pcap', 20, 1000); // within the interval: not drawn
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\r\x1b\[K\[1\/2\] a\.pcap {2}500 B of 4\.0 kB {2}12%/);
    expect(written[0].length).toBeLessThan(40 + 4);
    p.captureDone(20);
    const q = new Progress([1000, 3000], stream, 0);
    q.captureDone(20);
    q.update('b.pcap', 5, 1000);
    expect(written[1]).toMatch(/\[2\/2\] b\.pcap {2}2\.0 kB of 4\.0 kB {2}50%/);
    q.clear();
    expect(written[2]).toBe('\r\x1b[K');
    q.clear();
    expect(written).toHaveLength(3);
  });
});

describe('-w format and header', () => {
  it('-F wins, else .pcapng means pcapng, else classic pcap', () => {
    expect(outputFormat('x.pcapng')).toBe('pcapng');
    expect(outputFormat('X.PCAPNG')).toBe('pcapng');
    expect(outputFormat('x.pcap')).toBe('pcap');
    expect(outputFormat('x')).toBe('pcap');
    expect(outputFormat('-')).toBe('pcap');
    expect(outputFormat('x.pcapng', 'pcap')).toBe('pcap');
    expect(outputFormat('-', 'pcapng')).toBe('pcapng');
  });

  it('one link type passes; several are a usage error naming which capture has which', () => {
    const info = (linkTypes: number[], snaplen = 65535) => ({ format: 'pcap' as const, byteOrder: 'le' as const, linkType: linkTypes[0], snaplen, linkTypes, version: '2.4' });
    expect(() => checkOneLinkType('o.pcap', [{ source: 'a', name: 'a', info: info([1]) }, { source: 'b', name: 'b', info: info([1]) }, { source: 'c', name: 'c' }])).not.toThrow();
    let err: unknown;
    try {
      checkOneLinkType('o.pcap', [{ source: 'a', name: 'a', info: info([1]) }, { source: 'b', name: 'b', info: info([1, 0]) }]);
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(RunInputError);
    expect((err as RunInputError).exitCode).toBe(2);
    expect((err as Error).message).toBe('-w o.pcap: a classic pcap holds one link type and the captures have 2: 1 ETHERNET (a, b), 0 NULL (b); ' +
      'write pcapng with -F pcapng (or a .pcapng file name)');
    expect(outputHeader([{ source: 'a', name: 'a', info: info([113], 1500) }, { source: 'b', name: 'b', info: info([1], 9000) }])).toEqual({ linkType: 113, snaplen: 9000 });
    expect(outputHeader([{ source: 'a', name: 'a', info: info([1], 0) }]).snaplen).toBe(262144);
    expect(outputHeader([])).toEqual({ linkType: 1, snaplen: 262144 });
  });
});

describe('-e readings', () => {
  it('a script defining filter is taken as is; else an expression, then a body', () => {
    expect(inlineScripts('function filter(pkt) return true end')).toEqual([{ source: 'function filter(pkt) return true end', shift: 0 }]);
    expect(inlineScripts('filter = function(pkt) return true end')).toHaveLength(1);
    expect(inlineScripts('#pkt > 10').map((s) => s.source)).toEqual([
      'function filter(pkt, time) return #pkt > 10\nend\n', 'function filter(pkt, time) #pkt > 10\nend\n',
    ]);
    // starts like a statement: the body only
    expect(inlineScripts('local n = #pkt return n > 10').map((s) => s.source)).toEqual(['function filter(pkt, time) local n = #pkt return n > 10\nend\n']);
    // pkt.filter or a string mentioning filter is not a definition
    expect(inlineScripts('pkt.filter == 1')).toHaveLength(2);
  });

  it('positions on line 1 are moved back by the wrapper', () => {
    const [expr] = inlineScripts('#pkt > x');
    expect(shiftColumns(`-e:1:${expr.shift + 8}: bad`, expr.shift)).toBe('-e:1:8: bad');
    expect(shiftColumns('-e:2:5: bad', expr.shift)).toBe('-e:2:5: bad');
    expect(shiftColumns(`1:${expr.shift + 1}: call to unknown function 'f'`, expr.shift)).toBe("1:1: call to unknown function 'f'");
    expect(shiftColumns('-e:1:40: x', 0)).toBe('-e:1:40: x');
  });
});

describe('messages as data', () => {
  it('splits FILE:LINE:COL: message and its shorter forms', () => {
    expect(splitErrorMessage('a.lua:3:7: boom: really')).toEqual({ file: 'a.lua', line: 3, column: 7, detail: 'boom: really' });
    expect(splitErrorMessage('a.lua:3: boom')).toEqual({ file: 'a.lua', line: 3, detail: 'boom' });
    expect(splitErrorMessage('a.lua: trap: unreachable')).toEqual({ file: 'a.lua', detail: 'trap: unreachable' });
    expect(splitErrorMessage('boom')).toEqual({ detail: 'boom' });
    expect(reasonObject('2:5: not in the subset', 'f.lua')).toEqual({ file: 'f.lua', line: 2, column: 5, message: 'not in the subset' });
    expect(reasonObject('no position', 'f.lua')).toEqual({ file: 'f.lua', message: 'no position' });
  });

  it('--print line: capture#n, time to the nanosecond, length, verdict', () => {
    const record = { linkType: 1, tsSec: 1700000000, tsNsec: 5000, origLen: 1514, data: new Uint8Array(96), offset: 24 };
    expect(printLine(record, 'a.pcap', 3)).toBe('a.pcap#3 1700000000.000005000 length 1514 caplen 96 accept\n');
    expect(printLine({ ...record, origLen: 96 }, 'a.pcap', 4, 'f.lua:2: oops\nmore')).toBe('a.pcap#4 1700000000.000005000 length 96 accept on error: f.lua:2: oops more\n');
  });
});

describe('peekCapture', () => {
  it('reads every pcapng interface before the first packet, and a path is closed', async () => {
    const p = await peekCapture(join(CORPUS, 'pcapng-example.pcapng'), 'x');
    expect(p.info?.format).toBe('pcapng');
    expect(p.info?.linkTypes.sort()).toEqual([1, 113]);
    expect(p.error).toBeUndefined();
    const many = await peekCapture(join(CORPUS, 'many_interfaces-1.pcapng'), 'y');
    expect(many.info?.linkTypes.sort((a, b) => a - b)).toEqual([0, 1, 12]);
  });

  it('gives a stream back whole, however it was chunked', async () => {
    const bytes = readFileSync(join(CORPUS, 'pcapng-example.pcapng'));
    for (const size of [1, 7, 100, 1 << 20]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const p = await peekCapture(Readable.from(chunks), '<stdin>');
      expect(p.info?.linkTypes.length).toBeGreaterThan(0);
      const again: Buffer[] = [];
      for await (const c of p.replay) again.push(c as Buffer);
      expect(Buffer.concat(again).equals(bytes)).toBe(true);
      expect(parseCapture(Buffer.concat(again)).records).toHaveLength(159);
    }
  });

  it('reports a header it cannot read, and an empty stream', async () => {
    const bad = await peekCapture(join(CORPUS, 'pcap-invalid-version-1.pcap'), 'bad.pcap');
    expect(bad.info).toBeUndefined();
    expect(bad.error?.offset).toBe(4);
    const empty = await peekCapture(Readable.from([]), '<stdin>');
    expect(empty.error?.message).toMatch(/<stdin>: offset 0: empty file/);
  });
});
