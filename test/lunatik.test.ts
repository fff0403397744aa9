// Lunatik mode (runtime/lunatik): the data API's bounds and byte order,
// verdict mapping, marks, hook order, API generations, stubs and loading.
import { describe, expect, it } from 'vitest';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { createLunatikFilter, type LunatikFilter } from '../runtime/lunatik/engine.js';
import type { LunatikOptions } from '../runtime/lunatik/detect.js';
import { looksLunatik } from '../runtime/lunatik/detect.js';
import { describeLunatik } from '../runtime/lunatik/describe.js';
import { ScriptError } from '../runtime/errors.js';
import { batchOf, udpFrame } from './support/lunatik-frames.js';

async function load(src: string, options: LunatikOptions = {}): Promise<{ filter: LunatikFilter; out: () => string[] }> {
  const lines: string[] = [];
  const filter = await createLunatikFilter(src, 't.lua', {}, { ...options, print: (b) => lines.push(...Buffer.from(b).toString('latin1').split('\n').filter(Boolean)) });
  return { filter, out: () => lines.splice(0) };
}

async function run(src: string, frames: Uint8Array[], options: LunatikOptions = {}) {
  const { filter, out } = await load(src, options);
  const verdicts = new Uint8Array(frames.length);
  const errors = filter.filterBatch(batchOf(frames), verdicts);
  filter.close();
  return { verdicts: [...verdicts], errors: errors.map((e) => e.message), printed: out() };
}

const NF = `local netfilter = require("netfilter")\nlocal nf = require("linux.nf")\n`;
const reg = (hook: string, extra = '') =>
  `netfilter.register{ hook = ${hook}, pf = nf.proto.INET, hooknum = nf.inet.LOCAL_IN, priority = nf.ip.pri.FILTER${extra} }\n`;

describe('Lunatik data', () => {
  it('loads in host byte order (little-endian) at 0-based offsets; byteorder swaps', async () => {
    const r = await run(NF + `local byteorder = require("byteorder")
      local linux = require("linux")
      local function h(skb)
        local d = skb:data("net")
        print(d:getuint8(0), d:getuint16(2), byteorder.ntoh16(d:getuint16(2)), linux.ntoh16(d:getuint16(22)),
          d:getuint32(28), byteorder.ntoh32(d:getuint32(28)), d:getint8(28), d:getint16(28), d:getbyte(9), #d,
          d:getstring(28), d:getstring(28, 2), d:getnumber(20) == d:getint64(20), byteorder.hton64(1) == 1 << 56)
        return nf.action.ACCEPT
      end
      ` + reg('h'), [udpFrame()]);
    expect(r.errors).toEqual([]);
    expect(r.printed).toEqual([['69', String(0x2000), '32', '53', String(0xefbeadde), String(0xdeadbeef), '-34',
      String(-(0x10000 - 0xadde)), '17', '32', '\xde\xad\xbe\xef', '\xde\xad', 'true', 'true'].join('\t')]);
    expect(r.verdicts).toEqual([ACCEPT]);
  });

  it('raises out of bounds past the end, at negative offsets and for zero-length reads', async () => {
    const probes = ['d:getuint8(32)', 'd:getuint16(31)', 'd:getuint32(-1)', 'd:getstring(32)', 'd:getstring(0, 0)', 'd:getint64(25)', 'd:setuint8(32, 1)'];
    const r = await run(NF + `local function h(skb)
        local d = skb:data("net")
        ${probes.map((p) => `print(select(2, pcall(function() return ${p} end)))`).join('\n')}
        return nf.action.ACCEPT
      end
      ` + reg('h'), [udpFrame()]);
    expect(r.printed).toHaveLength(probes.length);
    for (const line of r.printed) expect(line).toMatch(/bad argument #1 to '\w+' \(out of bounds\)/);
  });

  it('writes through setters (seen by later reads) and clears the object after the call', async () => {
    const r = await run(NF + `local kept
      local function h(skb)
        local d = skb:data("net")
        d:setuint16(28, 0x1234); d:setstring(30, "xy")
        print(d:getuint8(28), d:getuint8(29), d:getstring(30, 2), d:checksum(0, 20))
        kept = d   -- the header's checksum is 0x66cb on the wire: x86 reads it as 0xcb66
        return nf.action.ACCEPT
      end
      local function later() print(pcall(kept.getuint8, kept, 0)) return 1 end   -- after h returned
      ` + reg('h') + reg('later', ', priority = 10'), [udpFrame()]);
    expect(r.printed[0]).toBe(['52', '18', 'xy', String(0xcb66)].join('\t'));
    expect(r.printed[1]).toMatch(/^false\t.*out of bounds/);
  });
});

describe('Lunatik verdicts', () => {
  const cases: [string, number][] = [['nil', REJECT], ['true', REJECT], ['false', REJECT], ['0', REJECT], ['1', ACCEPT],
    ['7', ACCEPT], ['-1', ACCEPT], ['"1"', ACCEPT], ['2', REJECT], ['3', REJECT], ['5', ACCEPT], ['1.5', REJECT]];
  for (const [value, verdict] of cases) {
    it(`a hook returning ${value} gives ${verdict === ACCEPT ? 'ACCEPT' : 'DROP'}`, async () => {
      const r = await run(NF + `local function h() return ${value} end\n` + reg('h'), [udpFrame()]);
      expect(r.verdicts).toEqual([verdict]);
    });
  }

  it('an error accepts the packet (reported as an error, with its position) and later hooks still run', async () => {
    const r = await run(NF + `local function bad() error("boom") end
      local function later() print("later") return nf.action.ACCEPT end
      ` + reg('bad') + reg('later', ', priority = 10'), [udpFrame()]);
    expect(r.verdicts).toEqual([ERROR]);
    expect(r.errors[0]).toMatch(/^t\.lua:3:.*boom/);
    expect(r.printed).toEqual(['later']);
  });

  it('XDP: nil is ABORTED, PASS/TX/REDIRECT accept, DROP rejects, errors pass', async () => {
    for (const [ret, verdict] of [['nil', REJECT], ['action.PASS', ACCEPT], ['action.TX', ACCEPT], ['action.REDIRECT', ACCEPT],
      ['action.DROP', REJECT], ['action.ABORTED', REJECT], ['9', REJECT], ['error("x")', ERROR]] as const) {
      const r = await run(`local xdp = require("xdp") local action = require("linux.xdp")
        xdp.attach(function(packet, argument) return ${ret} end)`, [udpFrame()], { xdpArg: 'none' });
      expect([ret, r.verdicts[0]]).toEqual([ret, verdict]);
    }
  });

  it('XDP gets the whole frame and the payload offset, big-endian', async () => {
    const r = await run(`local xdp = require("xdp") local b = require("byteorder")
      xdp.attach(function(p, a) print(#p, #a, b.ntoh16(a:getuint16(0)), p:getuint32(42)) return 2 end)`, [udpFrame()]);
    expect(r.printed).toEqual([`46\t2\t42\t${0xefbeadde}`]);
  });
});

describe('Lunatik marks and order', () => {
  it('skips hooks whose mark differs; a second result sets the mark for later hooks', async () => {
    const src = NF + `local function a() print("a") return nf.action.ACCEPT, 7 end
      local function b() print("b") return nf.action.ACCEPT end
      local function c() print("c") return nf.action.DROP end
      ` + reg('a', ', priority = -10') + reg('b', ', mark = 7') + reg('c', ', mark = 0, priority = 5');
    const r = await run(src, [udpFrame()]);
    expect(r.printed).toEqual(['a', 'b']);
    expect(r.verdicts).toEqual([ACCEPT]);
    const m = await run(src, [udpFrame()], { mark: 3 });
    expect(m.printed).toEqual([]);
  });

  it('runs hooks by hook point, then priority, then registration', async () => {
    const r = await run(NF + `local function mk(s) return function() print(s) return 1 end end
      netfilter.register{ hook = mk("out"), pf = nf.proto.IPV4, hooknum = nf.inet.LOCAL_OUT, priority = -100 }
      netfilter.register{ hook = mk("in-10"), pf = nf.proto.INET, hooknum = nf.inet.LOCAL_IN, priority = 10 }
      netfilter.register{ hook = mk("in-0-first"), pf = nf.proto.IPV4, hooknum = nf.inet.LOCAL_IN, priority = 0 }
      netfilter.register{ hook = mk("in-0-second"), pf = nf.proto.INET, hooknum = nf.inet.LOCAL_IN, priority = 0 }
      netfilter.register{ hook = mk("v6"), pf = nf.proto.IPV6, hooknum = nf.inet.LOCAL_IN, priority = -50 }
      netfilter.register{ hook = mk("pre"), pf = nf.proto.INET, hooknum = nf.inet.PRE_ROUTING, priority = 50 }
      netfilter.register{ hook = mk("ingress"), pf = nf.proto.NETDEV, hooknum = nf.netdev.INGRESS, priority = 0 }`, [udpFrame()]);
    expect(r.printed).toEqual(['ingress', 'pre', 'in-0-first', 'in-0-second', 'in-10', 'out']);
    const onlyIn = await run(NF + `netfilter.register{ hook = function() print("out") return 1 end, pf = 1, hooknum = 3, priority = 0 }
      netfilter.register{ hook = function() print("in") return 1 end, pf = 1, hooknum = 1, priority = 0 }`, [udpFrame()], { hookPath: 'in' });
    expect(onlyIn.printed).toEqual(['in']);
  });
});

describe('Lunatik API generations and loading', () => {
  it('2024: hook(data) over the network layer, constants in netfilter.*', async () => {
    const r = await run(`local netfilter = require("netfilter")
      netfilter.register{ hook = function(d, x) print(d:getuint8(0), x) return netfilter.action.ACCEPT end,
        pf = netfilter.family.IPV4, hooknum = netfilter.inet_hooks.PRE_ROUTING, priority = netfilter.ip_priority.FILTER }`,
    [udpFrame()], { api: 2024 });
    expect(r.printed).toEqual(['69\tnil']);
  });

  it('2025: hook(data, ifindex) from the MAC header, detected from the parameters', async () => {
    const { filter } = await load(`local netfilter = require("netfilter")
      netfilter.register{ hook = function(d, ifindex) print(d:getuint16(12), ifindex) return 1 end, pf = 2, hooknum = 0, priority = 0 }`);
    expect(filter.lunatik.api).toBe(2025);
    filter.close();
    const r = await run(`local netfilter = require("netfilter")
      netfilter.register{ hook = function(d, ifindex) print(d:getuint16(12), ifindex, #d) return 1 end, pf = 2, hooknum = 0, priority = 0 }`, [udpFrame()]);
    expect(r.printed).toEqual(['8\t1\t46']);
  });

  it('2026: skb:data("mac") is the frame; LOCAL_OUT has no MAC header', async () => {
    const r = await run(NF + `local function h(skb) print(#skb:data("mac"), #skb, (pcall(skb.data, skb, "mac"))) return 1 end
      netfilter.register{ hook = h, pf = 1, hooknum = nf.inet.PRE_ROUTING, priority = 0 }
      netfilter.register{ hook = function(skb) print(pcall(skb.data, skb, "mac")) return 1 end, pf = 1, hooknum = nf.inet.LOCAL_OUT, priority = 0 }`, [udpFrame()]);
    expect(r.printed[0]).toMatch(/^46\t32\ttrue/);
    expect(r.printed[1]).toMatch(/^false\t.*MAC header not set/);
  });

  it('control-plane modules load and fail when used; unknown modules fail to load', async () => {
    const r = await run(NF + `local mailbox = require("mailbox")
      local function h() print(pcall(mailbox.inbox, 1)) return 1 end\n` + reg('h'), [udpFrame()]);
    expect(r.printed[0]).toMatch(/^false\t.*mailbox is not available in luapf/);
    await expect(load(NF + `require("nosuch")\n` + reg('function() end'))).rejects.toThrow(/module 'nosuch' not found/);
  });

  it('luapf check lists netfilter hooks and the rules xtable extensions stand in', async () => {
    const { filter } = await load(NF + reg('function() return 1 end', ', mark = 3') + `local xtable = require("xtable")
      xtable.target{ name = "T", revision = 0, family = nf.proto.IPV6, hooks = (1 << 0) | (1 << 4),
        target = function() return 1 end, checkentry = function() end, destroy = function() end }`);
    expect(describeLunatik('t.lua', filter.lunatik).split('\n')).toEqual([
      expect.stringMatching(/^t\.lua: engine lua \(Lunatik script, API 2026: /),
      '  netfilter hook: family inet (pf 1), hook LOCAL_IN (1), priority 0, mark 3',
      '  xtable target T: family ipv6 (pf 10), hook PRE_ROUTING (0), as a filter-table rule',
      '  xtable target T: family ipv6 (pf 10), hook POST_ROUTING (4), as a filter-table rule',
      '',
    ]);
    filter.close();
    expect(looksLunatik('local xtable = require("xtable")')).toBe(true);
  });

  it('a script that registers nothing is a load error; detection needs no filter and a hook module', async () => {
    await expect(load('local netfilter = require("netfilter")')).rejects.toBeInstanceOf(ScriptError);
    await expect(load('local netfilter = require("netfilter")')).rejects.toThrow(/registers no netfilter hook/);
    expect(looksLunatik('local nf = require("netfilter")\nnf.register{}')).toBe(true);
    expect(looksLunatik('local nf = require("netfilter")\nfunction filter(pkt) return true end')).toBe(false);
    expect(looksLunatik('function filter(pkt) return true end')).toBe(false);
  });

  it('linux.time is the capture time; linux.random is seeded', async () => {
    const src = NF + `local linux = require("linux")
      local function h() print(linux.time(), linux.random(1, 6)) return 1 end\n` + reg('h');
    const a = await run(src, [udpFrame(), udpFrame()]);
    const b = await run(src, [udpFrame(), udpFrame()]);
    expect(a.printed[0]).toMatch(/^1700000000000000005\t[1-6]$/);
    expect(a.printed).toEqual(b.printed);
  });
});
