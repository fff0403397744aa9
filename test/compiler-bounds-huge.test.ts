// Offsets and lengths far past any packet (near 2^31, 2^32, 2^40, 2^63) must
// read nil / give nil views on the compiled engine exactly as on the Lua
// engine: no i32 or i64 wrap-around may turn them back into a read inside
// (or just outside) the packet, and no read may trap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCEPT } from '../runtime/engine/filter.js';
import { describeOutcome, differential } from './gen/differential.js';
import { compileOk, load, luaVerdicts, verdictName } from './support/compiler-helpers.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const PACKETS = [hex(''), hex('1122'), hex('11223344'), hex('99'.repeat(40))];

const near = (base: bigint) => fc.bigInt({ min: -20n, max: 20n }).map((d) => base + d);
/** values around the places where an i32 or i64 computation wraps */
const huge = fc.oneof(near(1n << 31n), near(1n << 32n), near(1n << 35n), near(1n << 40n), near((1n << 63n) - 21n),
  near(-(1n << 31n)), near(-(1n << 32n)), near(-(1n << 63n) + 21n), fc.bigInt({ min: -3n, max: 50n }));

async function agrees(source: string): Promise<{ kind: string; accepted: number }> {
  const o = await differential(source, PACKETS, 1, { name: 'huge.lua' });
  expect(['agree', 'uncompiled'], `${describeOutcome(o)}\n${source}`).toContain(o.kind);
  return { kind: o.kind, accepted: o.kind === 'agree' ? o.counts[ACCEPT] : -1 };
}

describe('field reads far past the packet', () => {
  it.each([
    ['{34359738360, 8}', 'pkt.d ~= nil'],
    ['{34359738360, 8}', 'pkt.d == 0x99'],
    ['{34359738367, 16}', 'pkt.d == 0x99'],
    ['{34359738367, 16}', 'pkt.d ~= nil'],
    ['{4294967295, 8}', 'pkt.d ~= nil'],
    ['{1099511627776, 8}', 'pkt.d ~= nil'],
    ["{4294967295, 8, 's'}", 'pkt.d ~= nil'],
    ["{1, 4294967295, 's'}", 'pkt.d ~= nil'],
    ["{1099511627776, 1099511627776, 's'}", 'pkt.d ~= nil'],
  ])('field %s: %s is never true and compiles', async (field, test) => {
    const r = await agrees(`local L = { d = ${field} } function filter(pkt) pkt:layout(L) return ${test} end`);
    expect(r).toEqual({ kind: 'agree', accepted: 0 });
  });

  it('random huge number and string fields agree', async () => {
    await fc.assert(fc.asyncProperty(huge, fc.bigInt({ min: 1n, max: 64n }), fc.boolean(), huge, async (off, w, str, slen) => {
      const field = str ? `{${off}, ${slen}, 'string'}` : `{${off}, ${w}}`;
      const r = await agrees(`local L = { d = ${field} } function filter(pkt) pkt:layout(L) return pkt.d ~= nil end`);
      // a field within the checker's limits compiles and reads non-nil exactly where it fits
      const fits = (p: Uint8Array) => (str ? slen >= 0n && off + slen <= BigInt(p.length) : off + w <= 8n * BigInt(p.length));
      if (off >= 0n && off <= 1n << 40n && (!str || (slen >= 0n && slen <= 1n << 40n)))
        expect(r).toEqual({ kind: 'agree', accepted: PACKETS.filter((p) => off >= 0n && fits(p)).length });
    }), { numRuns: 25 });
  });
});

describe('segments and string indices with huge run-time arguments', () => {
  it('pkt:segment(o, len) agrees', async () => {
    await fc.assert(fc.asyncProperty(huge, huge, fc.boolean(), async (o, n, withLen) => {
      // #pkt + k keeps the arguments run-time values
      const args = withLen ? `#pkt * 0 + (${o}), #pkt * 0 + (${n})` : `#pkt * 0 + (${o})`;
      const r = await agrees(`local L = { a = {0, 8} }
function filter(pkt)
  local s = pkt:segment(${args})
  if s == nil then return false end
  return #s >= 0 and (s:layout(L).a or 0) >= 0
end`);
      expect(r.kind).toBe('agree');
    }), { numRuns: 25 });
  });

  // checked against Debian's lua5.4: the Wasmoon engine is a 32-bit build whose
  // string.sub/byte truncate indices to size_t (2^32 + k reads like k)
  it('tostring(pkt):sub(i, j) and :byte(i) agree with lua5.4', async () => {
    await fc.assert(fc.asyncProperty(huge, huge, async (i, j) => {
      const src = `function filter(pkt)
  local s = tostring(pkt)
  local t = s:sub(#s * 0 + (${i}), #s * 0 + (${j}))
  local b = s:byte(#s * 0 + (${i}))
  return #t % 3 == 1 or b == 0x22 or b == 0x99
end`;
      const got = load(await compileOk(src)).run(PACKETS).map(verdictName);
      expect(got, src).toEqual(luaVerdicts(src, PACKETS));
    }), { numRuns: 25 });
  });
});
