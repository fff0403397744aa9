// Hand-written baselines for the classic filters of ../shared/bench/filters:
// a TypeScript function and a hand-written Wasm module (docs/ABI.md) doing
// exactly the check the Lua filter states, nil rules included. The suite
// checks their accept counts against luapf's before it trusts any figure.

/** A check on one network-layer packet: bytes[o .. o+n). */
export type PacketCheck = (b: Uint8Array, o: number, n: number) => boolean;

const u16 = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];

/** IPv4 (protocol, not a later fragment) or IPv6 (next header); returns the L4 offset or -1. */
function l4Offset(b: Uint8Array, o: number, n: number, protocols: (p: number) => boolean): number {
  if (n < 1) return -1;
  const version = b[o] >> 4;
  if (version === 4) {
    if (n < 10 || !protocols(b[o + 9]) || (u16(b, o + 6) & 0x1fff) !== 0) return -1;
    const ihl = (b[o] & 15) * 4;
    return ihl < n ? ihl : -1;
  }
  if (version === 6) {
    if (n < 7 || !protocols(b[o + 6])) return -1;
    return 40 < n ? 40 : -1;
  }
  return -1;
}

function eitherPort(match: (port: number) => boolean, protocols: (p: number) => boolean): PacketCheck {
  return (b, o, n) => {
    const l4 = l4Offset(b, o, n, protocols);
    if (l4 < 0) return false;
    const rest = n - l4;
    return (rest >= 2 && match(u16(b, o + l4))) || (rest >= 4 && match(u16(b, o + l4 + 2)));
  };
}

const isTcp = (p: number) => p === 6;
const isPorted = (p: number) => p === 6 || p === 17 || p === 132;

export const TS_BASELINES: Record<string, PacketCheck> = {
  'ip': (b, o, n) => n >= 1 && b[o] >> 4 === 4,
  'icmp': (b, o, n) => n >= 10 && b[o] >> 4 === 4 && b[o + 9] === 1,
  'tcp-port-80': eitherPort((p) => p === 80, isTcp),
  'tcp-port-5555': eitherPort((p) => p === 5555, isTcp),
  'portrange-0-6000': eitherPort((p) => p <= 6000, isPorted),
  'tcp-syn': (b, o, n) => {
    if (n < 10 || b[o] >> 4 !== 4 || b[o + 9] !== 6 || (u16(b, o + 6) & 0x1fff) !== 0) return false;
    const ihl = (b[o] & 15) * 4;
    return ihl < n && n - ihl >= 14 && (b[o + ihl + 13] & 0x02) !== 0;
  },
};

// ---- hand-written Wasm: the same checks in WAT, inside the ABI's batch loop.

/** WAT for `(func $l4 (param $p i32) (param $n i32) (result i32))` returning the L4 offset or -1. */
function watL4(protocolTest: (get: string) => string): string {
  return `
  (func $l4 (param $p i32) (param $n i32) (result i32) (local $v i32) (local $ihl i32) (local $proto i32)
    (if (i32.lt_u (local.get $n) (i32.const 1)) (then (return (i32.const -1))))
    (local.set $v (i32.shr_u (i32.load8_u (local.get $p)) (i32.const 4)))
    (if (i32.eq (local.get $v) (i32.const 4)) (then
      (if (i32.lt_u (local.get $n) (i32.const 10)) (then (return (i32.const -1))))
      (local.set $proto (i32.load8_u offset=9 (local.get $p)))
      (if (i32.eqz ${protocolTest('(local.get $proto)')}) (then (return (i32.const -1))))
      (if (i32.and (i32.load16_u offset=6 (local.get $p)) (i32.const 0xff1f)) (then (return (i32.const -1))))
      (local.set $ihl (i32.shl (i32.and (i32.load8_u (local.get $p)) (i32.const 15)) (i32.const 2)))
      (return (select (local.get $ihl) (i32.const -1) (i32.lt_u (local.get $ihl) (local.get $n))))))
    (if (i32.eq (local.get $v) (i32.const 6)) (then
      (if (i32.lt_u (local.get $n) (i32.const 7)) (then (return (i32.const -1))))
      (local.set $proto (i32.load8_u offset=6 (local.get $p)))
      (if (i32.eqz ${protocolTest('(local.get $proto)')}) (then (return (i32.const -1))))
      (return (select (i32.const 40) (i32.const -1) (i32.lt_u (i32.const 40) (local.get $n))))))
    (i32.const -1))`;
}

/** Big-endian 16-bit read at $p + k as WAT (packets are byte arrays; Wasm loads are little-endian). */
const be16 = (addr: string) => `(i32.or (i32.shl (i32.load8_u ${addr}) (i32.const 8)) (i32.load8_u offset=1 ${addr}))`;

function watEitherPort(portTest: (get: string) => string, protocolTest: (get: string) => string): string {
  return `${watL4(protocolTest)}
  (func $check (param $p i32) (param $n i32) (result i32) (local $off i32) (local $rest i32) (local $q i32)
    (local.set $off (call $l4 (local.get $p) (local.get $n)))
    (if (i32.lt_s (local.get $off) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $rest (i32.sub (local.get $n) (local.get $off)))
    (local.set $q (i32.add (local.get $p) (local.get $off)))
    (if (i32.ge_u (local.get $rest) (i32.const 2)) (then
      (if ${portTest(be16('(local.get $q)'))} (then (return (i32.const 1))))))
    (if (i32.ge_u (local.get $rest) (i32.const 4)) (then
      (return ${portTest(be16('(i32.add (local.get $q) (i32.const 2))'))})))
    (i32.const 0))`;
}

const tcpOnly = (get: string) => `(i32.eq ${get} (i32.const 6))`;
const ported = (get: string) =>
  `(i32.or (i32.or (i32.eq ${get} (i32.const 6)) (i32.eq ${get} (i32.const 17))) (i32.eq ${get} (i32.const 132)))`;

const WAT_CHECKS: Record<string, string> = {
  'ip': `
  (func $check (param $p i32) (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 1)) (then (i32.const 0))
      (else (i32.eq (i32.shr_u (i32.load8_u (local.get $p)) (i32.const 4)) (i32.const 4)))))`,
  'icmp': `
  (func $check (param $p i32) (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 10)) (then (i32.const 0))
      (else (i32.and (i32.eq (i32.shr_u (i32.load8_u (local.get $p)) (i32.const 4)) (i32.const 4))
                     (i32.eq (i32.load8_u offset=9 (local.get $p)) (i32.const 1))))))`,
  'tcp-port-80': watEitherPort((g) => `(i32.eq ${g} (i32.const 80))`, tcpOnly),
  'tcp-port-5555': watEitherPort((g) => `(i32.eq ${g} (i32.const 5555))`, tcpOnly),
  'portrange-0-6000': watEitherPort((g) => `(i32.le_u ${g} (i32.const 6000))`, ported),
  'tcp-syn': `
  (func $check (param $p i32) (param $n i32) (result i32) (local $ihl i32)
    (if (i32.lt_u (local.get $n) (i32.const 10)) (then (return (i32.const 0))))
    (if (i32.ne (i32.shr_u (i32.load8_u (local.get $p)) (i32.const 4)) (i32.const 4)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u offset=9 (local.get $p)) (i32.const 6)) (then (return (i32.const 0))))
    (if (i32.and (i32.load16_u offset=6 (local.get $p)) (i32.const 0xff1f)) (then (return (i32.const 0))))
    (local.set $ihl (i32.shl (i32.and (i32.load8_u (local.get $p)) (i32.const 15)) (i32.const 2)))
    (if (i32.ge_u (local.get $ihl) (local.get $n)) (then (return (i32.const 0))))
    (if (i32.lt_u (i32.sub (local.get $n) (local.get $ihl)) (i32.const 14)) (then (return (i32.const 0))))
    (i32.ne (i32.and (i32.load8_u offset=13 (i32.add (local.get $p) (local.get $ihl))) (i32.const 2)) (i32.const 0)))`,
};

/**
 * A complete ABI-v1 module in WAT around one of the checks above. With
 * `prefetch` = k > 0 its loop touches packet i + k as a compiled module's
 * does (docs/ABI.md), so that the two are compared loop for loop.
 */
export function baselineWat(name: string, prefetch = 0): string {
  const check = WAT_CHECKS[name];
  if (!check) throw new Error(`no hand-written Wasm baseline for ${name}`);
  return `(module
  (import "env" "memory" (memory 1))
  (global $cursor (export "cursor") (mut i32) (i32.const 0))
  (global (export "fuel_limit") (mut i32) (i32.const 0))
  (global (export "heap_base") i32 (i32.const 1024))
  (func (export "init") (result i32) (i32.const 0))
  ${check}
  (func (export "filter_batch") (param $d i32) (param $count i32) (param $out i32) (result i32) (local $i i32) (local $ahead i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (global.set $cursor (local.get $i))${prefetch > 0 ? `
      (local.set $ahead (i32.add (local.get $d) (i32.shl
        (select (i32.const ${prefetch}) (i32.sub (i32.sub (local.get $count) (local.get $i)) (i32.const 1))
          (i32.lt_u (i32.add (local.get $i) (i32.const ${prefetch})) (local.get $count)))
        (i32.const 4))))
      (if (i32.and (i32.ne (i32.load offset=4 (local.get $ahead)) (i32.const 0))
                   (i32.lt_u (i32.shr_u (i32.load (local.get $ahead)) (i32.const 16)) (memory.size)))
        (then (drop (i32.load8_u (i32.load (local.get $ahead))))))` : ''}
      (i32.store (local.get $out)
        (call $check (i32.load (local.get $d)) (i32.load offset=4 (local.get $d))))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $count))
  ${countLoop(prefetch)})`;
}

/** filter_count as a compiled module has it (docs/ABI.md, "Counting"): four packets a step, the same touch ahead. */
function countLoop(prefetch: number): string {
  const one = (at: number) => `${prefetch > 0 ? `
      (if (i32.gt_u (local.get $left) (i32.const ${at / 16 + prefetch})) (then
        (local.set $ahead (i32.add (local.get $d) (i32.const ${at + prefetch * 16})))
        (if (i32.and (i32.ne (i32.load offset=4 (local.get $ahead)) (i32.const 0))
                     (i32.lt_u (i32.shr_u (i32.load (local.get $ahead)) (i32.const 16)) (memory.size)))
          (then (drop (i32.load8_u (i32.load (local.get $ahead))))))))` : ''}
      (local.set $acc (i32.add (local.get $acc) (call $check (i32.load offset=${at} (local.get $d)) (i32.load offset=${at + 4} (local.get $d)))))`;
  return `(func (export "filter_count") (param $d i32) (param $left i32) (result i32) (local $acc i32) (local $ahead i32)
    (block $tail (loop $steps
      (br_if $tail (i32.lt_u (local.get $left) (i32.const 4)))${[0, 16, 32, 48].map(one).join('')}
      (local.set $d (i32.add (local.get $d) (i32.const 64)))
      (local.set $left (i32.sub (local.get $left) (i32.const 4)))
      (br $steps)))
    (block $counted (loop $rest
      (br_if $counted (i32.eqz (local.get $left)))${one(0)}
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (local.set $left (i32.sub (local.get $left) (i32.const 1)))
      (br $rest)))
    (local.get $acc))`;
}

export const BASELINE_NAMES = Object.keys(WAT_CHECKS);
