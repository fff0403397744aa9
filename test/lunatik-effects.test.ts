// Lunatik mode's side effects (runtime/lunatik: lib-skb-lua.ts, outcome.ts):
// final bytes after setters, skb:resize and skb:checksum (checked against an
// independent RFC 1071 checksum, over random packets), skb:copy + forward and
// XDP_TX as injected packets, verdict names and marks, VLAN tags taken off
// for netfilter and put back on output, the path from direction flags,
// printed lines per packet, and outcomes that survive a small fuel.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { createLunatikFilter } from '../runtime/lunatik/engine.js';
import type { LunatikOptions } from '../runtime/lunatik/detect.js';
import type { LunatikOutcome } from '../runtime/lunatik/outcome.js';
import { batchOf, ipv4ChecksumsValid, ipv6ChecksumValid, tagged, tcp6Frame, udpFrame } from './support/lunatik-frames.js';

interface Ran {
  verdicts: number[];
  errors: string[];
  outcomes: LunatikOutcome[];
  /** what print wrote outside packets */
  printed: string[];
}

async function run(src: string, frames: Uint8Array[], options: LunatikOptions & { fuel?: number; directions?: number[] } = {}): Promise<Ran> {
  const printed: string[] = [];
  const filter = await createLunatikFilter(src, 't.lua', options.fuel ? { fuel: options.fuel } : {}, {
    ...options, print: (b) => printed.push(...Buffer.from(b).toString('latin1').split('\n').filter(Boolean)),
  });
  let outcomes: LunatikOutcome[] = [];
  filter.onOutcomes = (o) => { outcomes = o; };
  try {
    const verdicts = new Uint8Array(frames.length);
    const errors = filter.filterBatch(batchOf(frames, 1, options.directions), verdicts);
    return { verdicts: [...verdicts], errors: errors.map((e) => e.message), outcomes, printed };
  } finally {
    filter.close();
  }
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const NF = `local netfilter = require("netfilter")\nlocal nf = require("linux.nf")\n`;
const reg = (hook: string, extra = '') =>
  `netfilter.register{ hook = ${hook}, pf = nf.proto.INET, hooknum = nf.inet.LOCAL_IN, priority = nf.ip.pri.FILTER${extra} }\n`;

describe('final bytes', () => {
  it('a setter rewrites the frame (link header kept); a packet nobody wrote to has no rewritten bytes', async () => {
    const r = await run(NF + `local function h(skb)
        local d = skb:data("net")
        if d:getuint8(23) == 0x35 then d:setuint8(23, 0x36) end   -- UDP port 53 becomes 54
        return nf.action.ACCEPT
      end\n` + reg('h'), [udpFrame(53), udpFrame(80)]);
    expect(r.verdicts).toEqual([ACCEPT, ACCEPT]);
    const want = udpFrame(53);
    want[14 + 23] = 0x36;
    expect(r.outcomes[0].rewritten).toEqual(want);
    expect(r.outcomes[1].rewritten).toBeUndefined();
  });

  it('skb:resize trims or extends the packet (within the tailroom) and the frame written follows', async () => {
    const r = await run(NF + `local function h(skb)
        local n = #skb
        skb:resize(n == 32 and 28 or n + 4)
        print(#skb, pcall(skb.resize, skb, 10000))
        return 1
      end\n` + reg('h'), [udpFrame(53), udpFrame(53, [1, 2, 3, 4, 5, 6])]);
    expect(r.outcomes[0].rewritten).toEqual(udpFrame(53).subarray(0, 14 + 28));
    expect(r.outcomes[1].rewritten).toEqual(Uint8Array.from([...udpFrame(53, [1, 2, 3, 4, 5, 6]), 0, 0, 0, 0]));
    expect(r.outcomes.map((o) => latin1(o.logs[0]))).toEqual([
      expect.stringMatching(/^28\tfalse\t.*insufficient tailroom/), expect.stringMatching(/^38\tfalse\t.*insufficient tailroom/)]);
  });

  it('skb:checksum() gives IPv4 header and UDP checksums an independent computation accepts (random packets)', async () => {
    const src = NF + `local function h(skb) skb:checksum() return 1 end\n` + reg('h');
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }), fc.integer({ min: 1, max: 65535 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 }),
      async (payload, dport, addrs) => {
        const f = udpFrame(dport, payload);
        f.set(addrs, 26);
        const r = await run(src, [f]);
        const out = r.outcomes[0].rewritten!;
        expect(ipv4ChecksumsValid(out)).toEqual({ header: true, transport: true });
        // only the two checksum fields changed
        expect([...out.subarray(0, 24), ...out.subarray(26, 40), ...out.subarray(42)]).toEqual([...f.subarray(0, 24), ...f.subarray(26, 40), ...f.subarray(42)]);
      }), { numRuns: 25 });
  }, 60_000);

  it('skb:checksum() gives IPv6 TCP checksums an independent computation accepts', async () => {
    const src = NF + `local function h(skb) skb:checksum() return 1 end\n` + reg('h');
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 41 }), async (payload) => {
      const r = await run(src, [tcp6Frame(443, payload)]);
      expect(ipv6ChecksumValid(r.outcomes[0].rewritten!)).toBe(true);
    }), { numRuns: 15 });
  }, 60_000);

  it('skb:checksum() refuses an IPv4 total length beyond the packet', async () => {
    const f = udpFrame(53);
    f[14 + 3] = 200;
    const r = await run(NF + `local function h(skb) print(pcall(skb.checksum, skb)) return 1 end\n` + reg('h'), [f]);
    expect(latin1(r.outcomes[0].logs[0])).toMatch(/^false\t.*IPv4 lengths 20\/200 do not fit the packet's 32 bytes/);
  });
});

describe('injected packets', () => {
  it('skb:copy() is independent of the packet; forward() injects it from the MAC header', async () => {
    const r = await run(NF + `local function h(skb)
        local c = skb:copy()
        c:data("net"):setuint8(8, 1)
        print(skb:data("net"):getuint8(8), c:data("net"):getuint8(8), #c, #c:data("mac"))
        c:forward()
        return nf.action.DROP
      end\n` + reg('h'), [udpFrame()]);
    expect(r.verdicts).toEqual([REJECT]);
    expect(r.outcomes[0].verdict).toBe('DROP');
    expect(r.outcomes[0].rewritten).toBeUndefined();
    expect(latin1(r.outcomes[0].logs[0])).toBe('64\t1\t32\t46');
    const want = udpFrame();
    want[14 + 8] = 1;
    expect(r.outcomes[0].injected).toEqual([{ kind: 'forward', frame: want }]);
  });

  it('forward() without a MAC header (LOCAL_OUT) is an error, and the packet goes on', async () => {
    const r = await run(NF + `netfilter.register{ hook = function(skb) skb:copy():forward() return 0 end,
        pf = nf.proto.INET, hooknum = nf.inet.LOCAL_OUT, priority = 0 }`, [udpFrame()]);
    expect(r.verdicts).toEqual([ERROR]);
    expect(r.errors[0]).toMatch(/MAC header not set/);
    expect(r.outcomes[0].verdict).toBe('ACCEPT');
    expect(r.outcomes[0].injected).toEqual([]);
  });

  it('XDP_TX sends the (rewritten) frame back: injected, and the verdict is XDP_TX', async () => {
    const r = await run(`local xdp = require("xdp") local action = require("linux.xdp")
      xdp.attach(function(p, a) p:setuint8(0, 0xee) return action.TX end)`, [udpFrame()], { xdpArg: 'none' });
    const want = udpFrame();
    want[0] = 0xee;
    expect(r.verdicts).toEqual([ACCEPT]);
    expect(r.outcomes[0]).toMatchObject({ verdict: 'XDP_TX', rewritten: want, injected: [{ kind: 'xdp-tx', frame: want }] });
  });
});

describe('verdict names and marks', () => {
  it('names every netfilter verdict and XDP action, with the final mark', async () => {
    const values = ['0', '1', '2', '3', '4', '5', '9', 'nil'];
    const frames = values.map((_, i) => udpFrame(1000 + i));
    const r = await run(NF + `local R = { ${values.map((v) => `{ ${v} }`).join(', ')} }
      local byteorder = require("byteorder")
      local function h(skb)
        local i = byteorder.ntoh16(skb:data("net"):getuint16(22)) - 999
        return R[i][1], 0x100 + i
      end\n` + reg('h'), frames);
    expect(r.outcomes.map((o) => o.verdict)).toEqual(['DROP', 'ACCEPT', 'STOLEN', 'QUEUE', 'REPEAT', 'STOP', 'ACCEPT', 'DROP']);
    expect(r.outcomes.map((o) => o.mark)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => 0x100 + i));
    expect(r.verdicts).toEqual([REJECT, ACCEPT, REJECT, REJECT, REJECT, ACCEPT, ACCEPT, REJECT]);
    const x = await run(`local xdp = require("xdp") local byteorder = require("byteorder")
      xdp.attach(function(p) local v = p:getuint8(45) return v < 5 and v or nil end)`,
    [0, 1, 2, 3, 4, 5].map((v) => udpFrame(53, [0, 0, 0, v])), { xdpArg: 'none' });
    expect(x.outcomes.map((o) => o.verdict)).toEqual(['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT', 'XDP_ABORTED']);
  });
});

describe('VLAN tags', () => {
  it('netfilter sees the frame without its outer tag (vlan id as the 2025 third argument); output gets the tag back', async () => {
    const r = await run(`local netfilter = require("netfilter")
      netfilter.register{ hook = function(d, ifindex, vlan)
        print(#d, d:getuint16(12), vlan)
        d:setuint8(14 + 23, 0x36)
        return 1
      end, pf = 2, hooknum = 0, priority = 0 }`, [tagged(udpFrame(53), 42)]);
    expect(latin1(r.outcomes[0].logs[0])).toBe('46\t8\t42');
    const want = tagged(udpFrame(53), 42);
    want[18 + 23] = 0x36;
    expect(r.outcomes[0].rewritten).toEqual(want);
  });

  it('XDP sees the tagged frame; skb:vlan() and copies keep the tag', async () => {
    const r = await run(NF + `local xdp = require("xdp")
      xdp.attach(function(p) print(#p) return 2 end)
      local function h(skb) print(skb:vlan(), #skb:data("mac")) skb:copy():forward() return 1 end\n` + reg('h'),
    [tagged(udpFrame(53), 7)], { xdpArg: 'none' });
    expect(r.outcomes[0].logs.map(latin1)).toEqual(['50', '7\t46']);
    expect(r.outcomes[0].injected[0].frame).toEqual(tagged(udpFrame(53), 7));
  });
});

describe('path from direction flags', () => {
  it('inbound packets meet PRE_ROUTING/LOCAL_IN, outbound LOCAL_OUT/POST_ROUTING, unflagged --path', async () => {
    const src = NF + `local function mk(s) return function() print(s) return 1 end end
      for h, name in pairs{ [0] = "pre", [1] = "in", [2] = "fwd", [3] = "out", [4] = "post" } do
        netfilter.register{ hook = mk(name), pf = nf.proto.INET, hooknum = h, priority = 0 }
      end`;
    const r = await run(src, [udpFrame(), udpFrame(), udpFrame()], { directions: [1, 2, 0], hookPath: 'forward' });
    expect(r.outcomes.map((o) => o.logs.map(latin1).join(' '))).toEqual(['pre fwd post', 'out post', 'pre fwd post']);
    const all = await run(src, [udpFrame(), udpFrame()], { directions: [1, 0] });
    expect(all.outcomes.map((o) => o.logs.map(latin1).join(' '))).toEqual(['pre in', 'pre in fwd out post']);
  });
});

describe('printed lines and fuel', () => {
  it('print in a hook belongs to its packet, even when the hook then fails; print in the main chunk goes out at once', async () => {
    const r = await run(NF + `print("loading")
      local function h(skb) print("seen", #skb) if #skb > 32 then error("too long") end return 1 end\n` + reg('h'),
    [udpFrame(), udpFrame(53, [1, 2, 3, 4, 5])]);
    expect(r.printed).toEqual(['loading']);
    expect(r.outcomes.map((o) => o.logs.map(latin1))).toEqual([['seen\t32'], ['seen\t33']]);
    expect(r.verdicts).toEqual([ACCEPT, ERROR]);
  });

  it('outcomes arrive for every packet under a small fuel; a packet out of fuel has no verdict of its own', async () => {
    // (the library's dispatch runs under the packet's fuel too: a few hundred steps)
    const frames = Array.from({ length: 300 }, (_, i) => udpFrame(i === 7 ? 9 : 53));
    const r = await run(NF + `local function h(skb)
        if skb:data("net"):getuint8(23) == 9 then while true do end end
        skb:data("net"):setuint8(8, 1)
        return 1, 5
      end\n` + reg('h'), frames, { fuel: 5000 });
    expect(r.outcomes).toHaveLength(300);
    expect(r.verdicts[7]).toBe(ERROR);
    expect(r.errors[0]).toMatch(/fuel exhausted/);
    expect(r.outcomes[7]).toMatchObject({ verdict: undefined, mark: 0 });
    expect(r.outcomes[7].rewritten).toBeUndefined();
    expect(r.outcomes.filter((o) => o.verdict === 'ACCEPT' && o.mark === 5 && o.rewritten?.[22] === 1)).toHaveLength(299);
  });
});

describe('xtable (removed 2026-03): each extension stands for a filter-table rule', () => {
  const XT = `local xtable = require("xtable")
    local netfilter = require("netfilter")
    local byteorder = require("byteorder")
    local log = {}
    `;
  const match = (body: string, extra = '') => XT + `xtable.match{ name = "luadns", revision = 0, family = netfilter.family.IPV4, proto = 17,
      hooks = 1 << netfilter.inet_hooks.LOCAL_IN, checkentry = function(args) ${extra} end, destroy = function() end,
      match = function(d, par, userargs) ${body} end }`;

  it('a match drops matching packets (--xt-target ACCEPT lets them on) and sees par and the userargs', async () => {
    const body = `print(#d, par.thoff, par.fragoff, par.hooknum, par.hotdrop, #userargs, (userargs:gsub("%z+$", "")),
        (pcall(d.setuint8, d, 0, 1)))
      return byteorder.ntoh16(d:getuint16(par.thoff + 2)) == 53`;
    const r = await run(match(body), [udpFrame(53), udpFrame(80)], { xtArgs: '--port 53' });
    expect(r.verdicts).toEqual([REJECT, ACCEPT]);
    expect(r.outcomes.map((o) => o.verdict)).toEqual(['DROP', 'ACCEPT']);
    expect(latin1(r.outcomes[0].logs[0])).toBe('32\t20\t0\t1\tfalse\t256\t--port 53\tfalse');
    const pass = await run(match(body), [udpFrame(53)], { xtTarget: 'ACCEPT' });
    expect(pass.verdicts).toEqual([ACCEPT]);
  });

  it('hotdrop drops whatever the match returns; an error is no match; another protocol skips the rule', async () => {
    const r = await run(match(`local port = byteorder.ntoh16(d:getuint16(22))
      if port == 1 then par.hotdrop = true return false end
      if port == 2 then error("bad") end
      return true`), [udpFrame(1), udpFrame(2), udpFrame(3)]);
    expect(r.outcomes.map((o) => o.verdict)).toEqual(['DROP', 'ACCEPT', 'DROP']);
    expect(r.verdicts[1]).toBe(ERROR);
    const tcp = udpFrame(3);
    tcp[14 + 9] = 6;
    expect((await run(match('return true'), [tcp])).verdicts).toEqual([ACCEPT]);
  });

  it('a target returns the verdict and may rewrite; checkentry failing fails the load', async () => {
    const r = await run(XT + `xtable.target{ name = "TTL1", revision = 0, family = netfilter.family.INET,
        hooks = 1 << netfilter.inet_hooks.PRE_ROUTING, checkentry = function() end, destroy = function() end,
        target = function(d, par) d:setuint8(8, 1) return netfilter.action.ACCEPT end }`, [udpFrame()]);
    expect(r.outcomes[0]).toMatchObject({ verdict: 'ACCEPT' });
    expect(r.outcomes[0].rewritten?.[22]).toBe(1);
    await expect(run(match('return true', 'error("no such port")'), [udpFrame()])).rejects.toThrow(/checkentry of xtable match 'luadns' failed: .*no such port/);
  });
});

describe('coroutines in Lunatik mode', () => {
  it('work (a generator kept across packets) and the packet\'s fuel runs down inside them', async () => {
    const NF2 = NF + `local gen = coroutine.wrap(function() local i = 0 while true do i = i + 1 coroutine.yield(i) end end)
      local function h(skb)
        local n = gen()
        if n == 2 then
          local co = coroutine.create(function() while true do end end)
          print(coroutine.resume(co))
          local spin = coroutine.wrap(function() while true do end end)
          spin()
        end
        print(n)
        return 1
      end\n` + reg('h');
    const r = await run(NF2, [udpFrame(), udpFrame(), udpFrame()], { fuel: 100_000 });
    expect(r.outcomes[0].logs.map(latin1)).toEqual(['1']);
    expect(latin1(r.outcomes[1].logs[0])).toMatch(/^false\tt\.lua:7: fuel exhausted \(100000 steps\)$/);
    expect(r.verdicts).toEqual([ACCEPT, ERROR, ACCEPT]);
    expect(r.errors[0]).toMatch(/fuel exhausted/);
    expect(r.outcomes[2].logs.map(latin1)).toEqual(['3']);
  });
});
