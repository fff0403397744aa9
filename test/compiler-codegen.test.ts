import { describe, expect, test } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../compiler/index.js';
import { compileOk, corpusPackets, load, luaVerdicts, verdictName } from './support/compiler-helpers.js';
import { FILTERS } from './support/paths.js';

const CAPTURES = ['v4.pcap', 'v6.pcap', 'many-protocols.pcap', 'ip4_fragments.pcap', 'ipv4-options.pcap', 'truncated_ip.pcap',
  'truncated_tcp.pcap', 'icmpv6.pcap', 'arp.pcap', 'sll.pcap', '802.1ad_QinQ.pcap', 'LINKTYPE_RAW_ipv6.pcap', 'teardrop.pcap'];
const packets = CAPTURES.flatMap((c) => corpusPackets(c));
// empty and tiny packets exercise the nil rules of fields and segments
// IPv4 TCP to port 5555 (no corpus capture has that port)
packets.push(new Uint8Array([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x15, 0xb3, 0x9c, 0x40, ...new Array(16).fill(0)]));
for (let n = 0; n < 60; n += 3) packets.push(new Uint8Array(n).map((_, i) => (i === 0 ? 0x45 : i === 9 ? 6 : 0x50)));

describe('bench filters compiled vs lua5.4', () => {
  for (const f of readdirSync(FILTERS).filter((x) => x.endsWith('.lua'))) {
    test(f, async () => {
      const src = readFileSync(join(FILTERS, f), 'latin1');
      const wasm = await compileOk(src, f);
      const got = load(wasm).run(packets).map(verdictName);
      const want = luaVerdicts(src, packets);
      expect(got.length).toBe(packets.length);
      expect(got).toEqual(want);
      // the filters are not trivial over this traffic
      expect(new Set(got).size).toBeGreaterThan(1);
    });
  }
});

/** Compiles a filter body and checks it against lua5.4 on the given packets. */
async function same(src: string, pkts: Uint8Array[]) {
  const wasm = await compileOk(src);
  const m = load(wasm);
  const got = m.run(pkts).map(verdictName);
  expect(got).toEqual(luaVerdicts(src, pkts));
  return { got, m };
}

const P = (...bytes: number[]) => new Uint8Array(bytes);

describe('semantics', () => {
  test('DESIGN.md field test vectors', async () => {
    const src = `local data = require'data'
      local L = data.layout{ a = {0,4}, b = {4,4}, c = {4,8}, d = {3,7}, e = {9,7}, f = {15,1}, g = {0,16},
        h = {0,16,'number','little'}, i = {16,1}, j = {8,9}, k = {20,9}, l = {32,1}, m = {offset = 3, length = 7} }
      local want = ...
      function filter(pkt) pkt:layout(L)
        if #pkt == 2 then
          return pkt.a == 0xF and pkt.b == 0xF and pkt.c == 0xFA and pkt.d == 0x7E and pkt.e == 0x2B and pkt.f == 1
            and pkt.g == 0xFFAB and pkt.h == 0xABFF and pkt.i == nil and pkt.j == nil and pkt.m == 0x7E
        end
        return pkt.k == 0x19B and pkt.l == nil
      end`.replace('local want = ...', '');
    const { got } = await same(src, [P(0xff, 0xab), P(0xaa, 0xbb, 0xcc, 0xdd)]);
    expect(got).toEqual(['accept', 'accept']);
  });

  test('RTP layout with a plain table', async () => {
    const src = `local rtp = { version = {0, 2}, extension = {3, 1}, csrc_count = {4, 4}, marker = {8, 1}, type = {9, 7} }
      function filter(pkt) pkt:layout(rtp)
        return pkt.version == 2 and pkt.extension == 0 and pkt.csrc_count == 0 and pkt.marker == 1 and pkt.type == 34 end`;
    const { got } = await same(src, [P(0x80, 0xa2), P(0x80, 0xa3), P(0x80)]);
    expect(got).toEqual(['accept', 'reject', 'reject']);
  });

  test('64-bit and straddling fields', async () => {
    const src = `local data = require'data'
      local L = data.layout{ w = {0, 64}, s = {3, 64}, t = {7, 58}, le = {8, 32, 'n', 'l'} }
      local X = { [1] = true }
      function filter(pkt) pkt:layout(L)
        local w, s, t, le = pkt.w, pkt.s, pkt.t, pkt.le
        if w == nil then return false end
        return w < 0 and s ~= nil and (s & 0xff) == 0xe5 and t > 0 and le == 0x44332211 or w == -1
      end`;
    await same(src, [P(0xff, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xbc), P(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      P(1, 2, 3, 4, 5, 6, 7), P(0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x3c)]);
  });

  test('segments and their nil rules', async () => {
    const src = `function filter(pkt)
        local n = 0
        for o = -1, #pkt + 1 do
          for l = -1, #pkt + 1 do
            local s = pkt:segment(o, l)
            if s ~= nil then n = n + #s * 3 + o end
          end
          local t = pkt:segment(o)
          if t then n = n + #t end
        end
        if pkt:segment() then n = n + 1000 end
        return n % 7 == #pkt % 7
      end`;
    await same(src, [P(), P(1), P(1, 2), P(1, 2, 3, 4, 5)]);
  });

  test('integer arithmetic: floor division, modulo, shifts, wrap-around', async () => {
    const src = `local cases = 0
      function filter(pkt)
        local a, b = #pkt - 4, 3
        local x = math.maxinteger + #pkt
        local ok = (a // b) * b + a % b == a and (-7) // 2 == -4 and (-7) % 2 == 1 and 7 % -2 == -1
          and (1 << 63) == math.mininteger and (1 << 64) == 0 and (8 >> -1) == 16 and (-1 >> 60) == 15
          and x == math.mininteger + #pkt - 1 and math.mininteger // -1 == math.mininteger
          and (5 ~ 3) == 6 and (~0) == -1 and math.max(1, #pkt, 3) >= 3 and math.min(a, b) <= b and math.abs(a) >= 0
        cases = cases + 1
        return ok and cases > 0
      end`;
    const { got } = await same(src, [P(), P(1, 2), P(1, 2, 3, 4, 5, 6, 7, 8, 9)]);
    expect(got).toEqual(['accept', 'accept', 'accept']);
  });

  test('runtime errors: division by zero, nil arithmetic, error(), assert', async () => {
    const src = `local data = require'data'
      local L = data.layout{ x = {0, 8} }
      function filter(pkt)
        pkt:layout(L)
        if #pkt == 1 then return 1 // (#pkt - 1) end
        if #pkt == 2 then return 1 % (#pkt - 2) end
        if #pkt == 3 then error('boom') end
        if #pkt == 4 then assert(false, 'nope') end
        return pkt.x + 1
      end`;
    const { got, m } = await same(src, [P(1), P(1, 2), P(1, 2, 3), P(1, 2, 3, 4), P(), P(1, 2, 3, 4, 5)]);
    expect(got).toEqual(['error', 'error', 'error', 'error', 'error', 'accept']);
    const w = m.run([P(1), P(1, 2), P(1, 2, 3), P(1, 2, 3, 4), P()]);
    expect(w.map((v) => m.errors[v - 2]!.message)).toEqual(['attempt to divide by zero', "attempt to perform 'n%0'", 'boom', 'nope',
      "attempt to perform arithmetic on a nil value (field 'x')"]);
    expect(m.errors[w[0]! - 2]).toMatchObject({ line: 5 });
  });

  test('state persists across packets; loops; recursion; fuel', async () => {
    const src = `count = 0
      local seen = 0
      local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
      function filter(pkt)
        if #pkt == 9 then while true do end end
        count = count + 1
        seen = seen + #pkt
        local i, s = 0, 0
        while i < #pkt do i = i + 1; if i > 100 then break end; s = s + i end
        repeat s = s - 1 until s < 10
        return fib(#pkt) + count + seen + s > 20
      end`;
    const wasm = await compileOk(src, 'test.lua', 3, 10000);
    const m = load(wasm);
    const pk = [P(1), P(1, 2, 3), P(1, 2, 3, 4, 5, 6, 7), P(1, 2, 3, 4, 5, 6, 7, 8, 9), P(1, 2)];
    const got = m.run(pk).map(verdictName);
    // the reference has no fuel: give it everything but the endless packet, in a fresh state
    const ref = luaVerdicts(src, pk.filter((_, i) => i !== 3));
    expect(got.filter((_, i) => i !== 3)).toEqual(ref);
    expect(got[3]).toBe('error');
    expect(m.errors[m.run([P(1, 2, 3, 4, 5, 6, 7, 8, 9)])[0]! - 2]!.message).toBe('fuel exhausted (10000 steps)');
  });

  test('float arithmetic and exact int/float comparison', async () => {
    const src = `function filter(pkt)
        local n = #pkt
        local f = n / 2
        local big = 2^2 * 1.0
        return f == n // 2 and 9007199254740993 < 9007199254740992.0 == false and n + 0.5 > n
          and math.maxinteger + 0.0 > math.maxinteger == false and math.maxinteger < 2^63 * 1.0
          and big == 4 and (n * 1.5) // 1 == n + (n // 2) - (n % 2) * 0 - 0
      end`;
    await same(src, [P(), P(1, 2), P(1, 2, 3, 4)]);
  });
});

describe('compile()', () => {
  test('custom section explains the module', async () => {
    const r = await compile(`function filter(pkt) return #pkt > 0 end`, { file: 'x.lua', fuel: 77 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const mod = new WebAssembly.Module(r.wasm);
    const s = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(mod, 'luapf')[0]!));
    expect(s).toMatchObject({ abi: 1, source: 'x.lua', options: { fuel: 77 }, memory: { minPages: 1 } });
    expect(s.sourceHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  test('optimization levels agree', async () => {
    const src = readFileSync(join(FILTERS, 'portrange-0-6000.lua'), 'latin1');
    const pk = corpusPackets('many-protocols.pcap');
    const v0 = load(await compileOk(src, 'p.lua', 0)).run(pk);
    const v3 = load(await compileOk(src, 'p.lua', 3)).run(pk);
    expect(v0).toEqual(v3);
  });
});
