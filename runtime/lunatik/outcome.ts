// What a packet's Lunatik hooks did beyond accept/reject: the verdict the
// kernel would act on (named), the final mark, the bytes a hook rewrote,
// the packets it made the host send and what it printed. Decoded from the
// string the library's flush() hands over once per batch (lib-skb-lua.ts).

/** netfilter verdicts 0..5 (uapi/linux/netfilter.h), then XDP actions at XDP_BASE + action. */
const NF_NAMES = ['DROP', 'ACCEPT', 'STOLEN', 'QUEUE', 'REPEAT', 'STOP'];
const XDP_NAMES = ['ABORTED', 'DROP', 'PASS', 'TX', 'REDIRECT'];
const XDP_BASE = 8;
/** the record of a packet that failed before its verdict was known */
const NO_RECORD = 255;

export interface InjectedPacket {
  /** skb:forward() of a copy (or of the packet), or a frame an XDP callback sent back with XDP_TX */
  kind: 'forward' | 'xdp-tx';
  /** the frame from its MAC header, VLAN tag in place */
  frame: Uint8Array;
}

export interface LunatikOutcome {
  /** 'ACCEPT', 'DROP', … or 'XDP_PASS', 'XDP_TX', …; undefined when the packet failed before its verdict (the kernel lets it on) */
  verdict: string | undefined;
  /** the packet's mark after its hooks */
  mark: number;
  /** the frame as it leaves (link header and VLAN tag in place) when a hook wrote to it */
  rewritten?: Uint8Array;
  injected: InjectedPacket[];
  /** what print() wrote while this packet's hooks ran, one entry a line (bytes) */
  logs: Uint8Array[];
  /** the packet's capture time and link type (injected packets take them) */
  tsSec: number;
  tsNsec: number;
  linkType: number;
}

/** The verdict name of a record's code. */
export function verdictName(code: number): string | undefined {
  if (code === NO_RECORD) return undefined;
  return code >= XDP_BASE ? `XDP_${XDP_NAMES[code - XDP_BASE] ?? code - XDP_BASE}` : NF_NAMES[code] ?? String(code);
}

export function emptyOutcome(): LunatikOutcome {
  return { verdict: undefined, mark: 0, injected: [], logs: [], tsSec: 0, tsNsec: 0, linkType: 0 };
}

/** Splits the flush payload into one outcome per packet of the batch (`count` of them). */
export function decodeOutcomes(payload: Uint8Array, count: number): LunatikOutcome[] {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const outcomes = Array.from({ length: count }, emptyOutcome);
  let p = 0;
  const u32 = (): number => { const v = dv.getUint32(p, true); p += 4; return v; };
  const bytes = (): Uint8Array => { const n = u32(); const b = payload.slice(p, p + n); p += n; return b; };
  const packets = u32();
  if (packets !== count) throw new Error(`Lunatik runtime reported ${packets} packets for a batch of ${count}`);
  const recEnd = u32() + p;
  for (let i = 0; p < recEnd; i++) {
    const code = payload[p];
    const rewritten = payload[p + 1] === 1;
    p += 2;
    const mark = u32();
    const frame = bytes();
    outcomes[i] = { ...emptyOutcome(), verdict: verdictName(code), mark, ...(rewritten ? { rewritten: frame } : {}) };
  }
  const logEnd = u32() + p;
  while (p < logEnd) {
    const k = u32();
    outcomes[k - 1].logs.push(bytes());
  }
  const injEnd = u32() + p;
  while (p < injEnd) {
    const k = u32();
    const kind = payload[p++] === 0 ? 'forward' : 'xdp-tx';
    outcomes[k - 1].injected.push({ kind, frame: bytes() });
  }
  return outcomes;
}
