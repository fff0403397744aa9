// The Lunatik mode of the Lua engine: a script that registers netfilter
// hooks, xtable extensions or an XDP callback runs unmodified on the
// interpreter (engine/lua.ts) with Lunatik's libraries (one Lua chunk in
// four parts: lib-data-lua.ts, lib-skb-lua.ts, lib-xtable-lua.ts,
// lib-lua.ts) in place of the NPF `data` library. It keeps the Filter contract, so the runner, -w, --json
// and --verdicts work as for any filter: a packet is ACCEPT when the hooks
// it meets accept it (netfilter ACCEPT, XDP PASS/TX/REDIRECT), REJECT
// otherwise, ERROR when a hook failed and the packet went on (the kernel
// accepts it; --on-error defaults to pass in this mode).
//
// The engine is fed whole frames (layer 2) and hands each to Lua behind 10
// bytes of link facts it works out here once: where the network header
// starts, the ethertype, the MAC header's length, the VLAN id and the
// capture's direction flag. After the batch's last packet comes a marker
// on which the library hands over what the packets did beyond their
// verdicts (outcome.ts): final bytes, verdict names, marks, injected
// packets, printed lines.
import { type Filter, type FilterError, type FilterLimits, type PacketBatch } from '../engine/filter.js';
import { createLuaFilter, type LuaFilter } from '../engine/lua.js';
import { scriptBytes } from '../engine/script-bytes.js';
import { LINKTYPE, networkOffsetAt } from '../capture/link.js';
import { LUNATIK_DATA_LUA } from './lib-data-lua.js';
import { LUNATIK_SKB_LUA } from './lib-skb-lua.js';
import { LUNATIK_XTABLE_LUA } from './lib-xtable-lua.js';
import { LUNATIK_LIB_LUA } from './lib-lua.js';
import { decodeOutcomes, emptyOutcome, type LunatikOutcome } from './outcome.js';
import { staticFacts, type LunatikApi, type LunatikOptions } from './detect.js';

const META = 10;
const NO_NET = 0xffff;
/** the network offset of the end-of-batch marker */
const FLUSH = 0xfffe;
const NO_VLAN = 0xffff;

const FAMILY: Record<number, string> = { 1: 'inet', 2: 'ipv4', 3: 'arp', 5: 'netdev', 7: 'bridge', 10: 'ipv6' };
const HOOKS: Record<string, string[]> = {
  inet: ['PRE_ROUTING', 'LOCAL_IN', 'FORWARD', 'LOCAL_OUT', 'POST_ROUTING'],
  bridge: ['PRE_ROUTING', 'LOCAL_IN', 'FORWARD', 'LOCAL_OUT', 'POST_ROUTING', 'BROUTING'],
  arp: ['IN', 'OUT', 'FORWARD'],
  netdev: ['INGRESS', 'EGRESS'],
};

/** One netfilter registration as `luapf check` reports it. */
export interface LunatikHook {
  pf: number;
  family: string;
  hooknum: number;
  hook: string;
  priority: number;
  mark: number;
  /** an xtable rule standing in for iptables: 'match NAME' or 'target NAME' */
  xtable?: string;
}

/** What the script registered, found by running its main chunk. */
export interface LunatikInfo {
  api: LunatikApi;
  /** why that generation */
  apiReason: string;
  hooks: LunatikHook[];
  xdp: boolean;
}

/** A Lua string literal of any bytes (decimal escapes outside printable ASCII). */
function luaBytes(b: Uint8Array): string {
  let s = '"';
  for (const c of b) s += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\${c}`;
  return `${s}"`;
}

function xdpArgument(mode: string): { mode: string; bytes: Uint8Array } {
  if (mode === 'payload-offset' || mode === 'none') return { mode, bytes: new Uint8Array(0) };
  const m = /^hex:((?:[0-9a-fA-F]{2})*)$/.exec(mode);
  if (!m) throw new RangeError(`--xdp-arg must be payload-offset, none or hex:BYTES, got ${mode}`);
  return { mode: 'bytes', bytes: Uint8Array.from(m[1].match(/../g) ?? [], (h) => parseInt(h, 16)) };
}

/** The `local CONFIG = {...}` line the library chunk starts with. */
function configChunk(source: string, path: string | undefined, o: LunatikOptions): string {
  const facts = staticFacts(source, path, o.include);
  const api = o.api ?? facts.api;
  const why = o.api !== undefined ? '--lunatik-api' : facts.why;
  const xdp = xdpArgument(o.xdpArg ?? 'payload-offset');
  const mods = facts.modules.map((m) => `[${luaBytes(scriptBytes(m.name))}] = { path = ${luaBytes(scriptBytes(m.path))}, source = ${luaBytes(m.source)} }`);
  return `local CONFIG = { api = ${api}, apiwhy = ${luaBytes(scriptBytes(why))}, usesbyteorder = ${facts.usesByteorder}, ` +
    `mark = ${Math.trunc(o.mark ?? 0)}, path = '${o.hookPath ?? 'all'}', xdpmode = '${xdp.mode}', xdparg = ${luaBytes(xdp.bytes)}, ` +
    `seed = ${Math.trunc(o.seed ?? 1) || 1}, tailroom = 64, xtargs = ${luaBytes(scriptBytes(o.xtArgs ?? ''))}, ` +
    `xtverdict = ${o.xtTarget === 'ACCEPT' ? 1 : 0}, modules = { ${mods.join(', ')} } }\n`;
}

function parseInfo(line: string): LunatikInfo {
  const [, , api, why, xdp, list] = line.split('\0');
  const hooks = list === '' ? [] : list.split(';').map((p) => {
    const fields = p.split(',');
    const [pf, hooknum, priority, mark] = fields.slice(0, 4).map(Number);
    const family = FAMILY[pf] ?? `pf ${pf}`;
    const names = HOOKS[family === 'ipv4' || family === 'ipv6' ? 'inet' : family];
    return { pf, family, hooknum, hook: names?.[hooknum] ?? String(hooknum), priority, mark, ...(fields[4] ? { xtable: fields[4] } : {}) };
  });
  return { api: Number(api) as LunatikApi, apiReason: why, hooks, xdp: xdp === 'xdp' };
}

/** The link facts of one frame: network offset, ethertype, MAC header length, VLAN id (direction: the caller's). */
function linkFacts(linkType: number, b: Uint8Array, at: number, n: number, out: DataView, o: number): void {
  let net = NO_NET;
  try {
    net = networkOffsetAt(linkType, b, at, n);
  } catch {
    // a link type luapf cannot strip: netfilter hooks are skipped, XDP still sees the frame
  }
  let etype = 0;
  let mac = 0;
  let vlan = NO_VLAN;
  if (net !== NO_NET && net <= n) {
    if (linkType === LINKTYPE.ETHERNET && net >= 14) {
      etype = (b[at + net - 2] << 8) | b[at + net - 1];
      mac = net;
      if (net >= 18) vlan = ((b[at + 14] << 8) | b[at + 15]) & 0xfff;
    } else if (linkType === LINKTYPE.LINUX_SLL && n >= 16) {
      etype = (b[at + 14] << 8) | b[at + 15];
    } else if (linkType === LINKTYPE.LINUX_SLL2 && n >= 20) {
      etype = (b[at] << 8) | b[at + 1];
    } else if (net < n) {
      const v = b[at + net] >> 4;
      etype = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
    }
  }
  out.setUint16(o, net, true);
  out.setUint16(o + 2, etype, true);
  out.setUint16(o + 4, mac, true);
  out.setUint16(o + 6, vlan, true);
}

export class LunatikFilter implements Filter {
  readonly engine = 'lua' as const;
  readonly layer = 2 as const;
  /**
   * Receives, after each filterBatch, one outcome per packet of the batch,
   * in order. Without a listener, what the hooks printed goes to the load
   * option `print` as it would in the kernel's log.
   */
  onOutcomes?: (outcomes: LunatikOutcome[]) => void;
  private bytes = new Uint8Array(1 << 16);
  private offsets = new Uint32Array(0);
  private lengths = new Uint32Array(0);
  private verdicts = new Uint8Array(0);
  private timestampsSec = new Float64Array(0);
  private timestampsNsec = new Uint32Array(0);

  /** @internal use createLunatikFilter */
  constructor(
    private readonly inner: LuaFilter,
    readonly lunatik: LunatikInfo,
    /** the flush payload of the batch just run (set by the print hook) */
    private readonly flushed: { payload?: Uint8Array },
    private readonly print: (bytes: Uint8Array) => void,
  ) {}

  filterBatch(batch: PacketBatch, verdicts: Uint8Array): FilterError[] {
    const n = batch.count;
    let total = META;
    for (let i = 0; i < n; i++) total += batch.lengths[i] + META;
    if (total > this.bytes.length) this.bytes = new Uint8Array(Math.max(total, this.bytes.length * 2));
    if (this.offsets.length < n + 1) {
      this.offsets = new Uint32Array(n + 1);
      this.lengths = new Uint32Array(n + 1);
      this.verdicts = new Uint8Array(n + 1);
      this.timestampsSec = new Float64Array(n + 1);
      this.timestampsNsec = new Uint32Array(n + 1);
    }
    const out = this.bytes;
    const dv = new DataView(out.buffer);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const at = batch.offsets[i];
      const len = batch.lengths[i];
      // without link types the bytes are network-layer packets (library batches, bench at --layer 3)
      linkFacts(batch.linkTypes?.[i] ?? LINKTYPE.RAW, batch.bytes, at, len, dv, pos);
      dv.setUint16(pos + 8, batch.directions?.[i] ?? 0, true);
      out.set(batch.bytes.subarray(at, at + len), pos + META);
      this.offsets[i] = pos;
      this.lengths[i] = len + META;
      pos += len + META;
    }
    this.timestampsSec.set(batch.timestampsSec.subarray(0, n));
    this.timestampsNsec.set(batch.timestampsNsec.subarray(0, n));
    // the end-of-batch marker: the library hands over the batch's outcomes on it
    dv.setUint16(pos, FLUSH, true);
    this.offsets[n] = pos;
    this.lengths[n] = META;
    this.flushed.payload = undefined;
    const errors = this.inner.filterBatch({
      bytes: out, offsets: this.offsets, lengths: this.lengths, count: n + 1,
      timestampsSec: this.timestampsSec, timestampsNsec: this.timestampsNsec,
    }, this.verdicts);
    verdicts.set(this.verdicts.subarray(0, n));
    // The marker runs under a packet's fuel like any packet; under a fuel of 1000 steps or less
    // the count hook's stride can end it early. The outcomes wait in Lua until handed over: ask again.
    for (let retry = 0; retry < 4 && this.flushed.payload === undefined; retry++) {
      this.offsets[0] = pos;
      this.inner.filterBatch({
        bytes: out, offsets: this.offsets, lengths: this.lengths.fill(META, 0, 1), count: 1,
        timestampsSec: this.timestampsSec, timestampsNsec: this.timestampsNsec,
      }, this.verdicts);
    }
    const payload = this.flushed.payload;
    const outcomes = payload !== undefined ? decodeOutcomes(payload, n) : Array.from({ length: n }, emptyOutcome);
    outcomes.forEach((o, i) => {
      o.tsSec = batch.timestampsSec[i];
      o.tsNsec = batch.timestampsNsec[i];
      o.linkType = batch.linkTypes?.[i] ?? LINKTYPE.RAW;
    });
    if (this.onOutcomes) this.onOutcomes(outcomes);
    else for (const o of outcomes) for (const line of o.logs) this.print(withNewline(line));
    return errors.filter((e) => e.index < n);
  }

  close(): void {
    this.inner.close();
  }
}

function withNewline(line: Uint8Array): Uint8Array {
  const b = new Uint8Array(line.length + 1);
  b.set(line);
  b[line.length] = 10;
  return b;
}

export interface LunatikLoadOptions extends LunatikOptions {
  /** the script's file, for its dotted modules */
  scriptPath?: string;
  /** where print() output goes (default: standard error) */
  print?: (bytes: Uint8Array) => void;
}

const MARKER = '\0lunatik\0';
const OUTCOMES = '\0lunatik-out\0';

function startsWith(b: Uint8Array, prefix: string): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** Loads a Lunatik script; throws ScriptError as createLuaFilter does, also for a script that registers nothing. */
export async function createLunatikFilter(
  source: string,
  chunkName: string,
  limits: Partial<FilterLimits> = {},
  options: LunatikLoadOptions = {},
): Promise<LunatikFilter> {
  let info: LunatikInfo | undefined;
  const flushed: { payload?: Uint8Array } = {};
  const print = options.print ?? ((b: Uint8Array) => process.stderr.write(b));
  const library = configChunk(source, options.scriptPath, options) + LUNATIK_DATA_LUA + LUNATIK_SKB_LUA + LUNATIK_XTABLE_LUA + LUNATIK_LIB_LUA;
  const inner = await createLuaFilter(source, chunkName, limits, {
    library,
    print: (b) => {
      // (every line ends in the newline print adds)
      if (info !== undefined && startsWith(b, OUTCOMES)) flushed.payload = b.subarray(OUTCOMES.length, b.length - 1);
      else if (info === undefined && startsWith(b, MARKER)) info = parseInfo(Buffer.from(b.subarray(0, b.length - 1)).toString('utf8'));
      else print(b);
    },
  });
  if (info === undefined) {
    inner.close();
    throw new Error('Lunatik runtime did not report its hooks');
  }
  return new LunatikFilter(inner, info, flushed, print);
}
