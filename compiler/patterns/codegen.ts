// Pattern AST → one specialized Binaryen function.
//
// lstrlib.c's `match` recurses once per backtracking point. Because a pattern
// is a straight sequence, the continuation of item k is always items k+1..n,
// so here each repetition becomes a Wasm loop whose body is the inlined code
// of the rest of the pattern: `a*b-c` is two nested loops, each item's code is
// emitted once, and success is a `return` from the innermost body. There is
// no call and no recursion, so the Wasm stack cannot overflow; Lua's
// MAXCCALLS limit ("pattern too complex") is reproduced with an explicit
// depth counter, emitted only when the pattern could reach it.
import binaryen from 'binaryen';
import {
  ERR_TOO_COMPLEX,
  type ByteSet,
  type PatternAst,
  type PatternItem,
} from './parse.js';
import { emitSetTest, setsDisjoint, setSize, singleByte } from './sets.js';

/** Lua's MAXCCALLS for `match`. */
export const MAX_MATCH_DEPTH = 200;

export interface CodegenOptions {
  /** scan for the first byte 16 at a time with i8x16.eq (enables the SIMD feature) */
  simd?: boolean;
  /** try every start position from init (default), else only init */
  search?: boolean;
}

export interface CodegenResult {
  /** the pattern can reach Lua's recursion limit, so depth is counted */
  tracksDepth: boolean;
  /** the generated code uses SIMD instructions */
  usesSimd: boolean;
}

const I32 = binaryen.i32;

// Parameter indices of the generated function.
const SUBJECT = 0;
const LEN = 1;
const INIT = 2;
const CAPS = 3;

/** What the rest of the pattern needs at its start position, when known. */
interface FirstInfo {
  /** bytes the rest can start with */
  set: ByteSet;
  /** the rest may match at the end of the subject */
  atEnd: boolean;
}

const EMPTY_SET: ByteSet = new Uint8Array(256);

/** First-byte requirement of items[k..], looking through zero-width items that cannot fail. */
function firstInfo(items: PatternItem[], k: number): FirstInfo | null {
  for (let i = k; i < items.length; i++) {
    const it = items[i];
    switch (it.kind) {
      case 'open':
      case 'close':
      case 'frontier': // only narrows what follows
        continue;
      case 'single':
        if (it.quant === '' || it.quant === '+') return { set: it.set, atEnd: false };
        return null;
      case 'balance': {
        const set = new Uint8Array(256);
        set[it.open] = 1;
        return { set, atEnd: false };
      }
      case 'end':
        return { set: EMPTY_SET, atEnd: true };
      default:
        return null; // backref (may be empty), error
    }
  }
  return null; // the empty rest matches anywhere
}

/** Maximum number of nested Lua `match` calls the pattern can make. */
function maxDepth(items: PatternItem[]): number {
  let d = 1;
  for (const it of items) {
    if (it.kind === 'open' || it.kind === 'close' || (it.kind === 'single' && it.quant !== '')) d++;
  }
  return d;
}

class Gen {
  private nextLocal = 4;
  private readonly vars: number[] = [];
  private labels = 0;
  readonly S: number; // current subject position
  readonly START: number;
  readonly C: number; // scratch: current byte
  readonly T1: number; // scratch for %b and back-references
  readonly T2: number;
  readonly D: number; // depth, when tracked
  readonly capStart: number[] = [];
  readonly capEnd: number[] = [];
  usesSimd = false;

  constructor(
    readonly m: binaryen.Module,
    readonly ast: PatternAst,
    readonly tracksDepth: boolean,
    readonly simd: boolean,
    readonly search: boolean,
  ) {
    this.S = this.local();
    this.START = this.local();
    this.C = this.local();
    this.T1 = this.local();
    this.T2 = this.local();
    this.D = tracksDepth ? this.local() : -1;
    for (let k = 0; k < ast.captureCount; k++) {
      this.capStart.push(this.local());
      this.capEnd.push(this.local());
    }
  }

  /** A block of statements; an explicit type spares binaryen a scan for branches (quadratic when nested). */
  blk(label: string | null, children: number[]): number {
    return this.m.block(label, children, binaryen.none);
  }

  local(type: number = I32): number {
    this.vars.push(type);
    return this.nextLocal++;
  }

  get varTypes(): number[] {
    return this.vars;
  }

  label(prefix: string): string {
    return `${prefix}${this.labels++}`;
  }

  get(i: number): number {
    return this.m.local.get(i, I32);
  }

  set(i: number, v: number): number {
    return this.m.local.set(i, v);
  }

  c32(v: number): number {
    return this.m.i32.const(v);
  }

  /** byte at subject[pos + offset] */
  load(pos: number, offset = 0): number {
    return this.m.i32.load8_u(offset, 1, this.m.i32.add(this.get(SUBJECT), pos));
  }

  test(set: ByteSet, byte: number): number {
    return emitSetTest(this.m, set, () => this.get(byte));
  }

  /** One more nested Lua `match` call: fail with "pattern too complex" past the limit. */
  depthEdge(base: number, extra: number): number[] {
    if (!this.tracksDepth) return [];
    const m = this.m;
    return [
      this.set(this.D, extra === 0 ? base : m.i32.add(base, this.c32(extra))),
      m.if(m.i32.gt_s(this.get(this.D), this.c32(MAX_MATCH_DEPTH)), m.return(this.c32(ERR_TOO_COMPLEX))),
    ];
  }

  /** Statements matching items[k..] from position S; on failure they `br fail`, on success they return 1. */
  seq(k: number, fail: string): number[] {
    const m = this.m;
    const items = this.ast.items;
    const out: number[] = [];
    for (; k < items.length; k++) {
      const it = items[k];
      switch (it.kind) {
        case 'single': {
          if (it.quant !== '') {
            out.push(...(it.quant === '-' ? this.lazy(k, it.set, fail) : this.greedy(k, it.set, it.quant, fail)));
            return out;
          }
          // a run of plain single items: one bounds check, loads at constant offsets
          let n = 0;
          while (k + n < items.length) {
            const x = items[k + n];
            if (x.kind !== 'single' || x.quant !== '') break;
            n++;
          }
          out.push(m.br(fail, m.i32.lt_u(m.i32.sub(this.get(LEN), this.get(this.S)), this.c32(n))));
          const bytesOf = (j: number) => singleByte((items[k + j] as Extract<PatternItem, { kind: 'single' }>).set);
          for (let j = 0; j < n; ) {
            // literal bytes: compare 4 or 2 at once (unaligned loads are fine in Wasm)
            let lit = 0;
            while (lit < 4 && j + lit < n && bytesOf(j + lit) >= 0) lit++;
            if (lit >= 2) {
              const w = lit === 4 ? 4 : 2;
              let v = 0;
              for (let b = w - 1; b >= 0; b--) v = v * 256 + bytesOf(j + b);
              const ptr = m.i32.add(this.get(SUBJECT), this.get(this.S));
              const load = w === 4 ? m.i32.load(j, 1, ptr) : m.i32.load16_u(j, 1, ptr);
              out.push(m.br(fail, m.i32.ne(load, this.c32(v | 0))));
              j += w;
              continue;
            }
            const x = items[k + j] as Extract<PatternItem, { kind: 'single' }>;
            if (setSize(x.set) !== 256) {
              out.push(this.set(this.C, this.load(this.get(this.S), j)));
              out.push(m.br(fail, m.i32.eqz(this.test(x.set, this.C))));
            }
            j++;
          }
          out.push(this.set(this.S, m.i32.add(this.get(this.S), this.c32(n))));
          k += n - 1;
          break;
        }
        case 'open':
          out.push(this.set(this.capStart[it.index], this.get(this.S)));
          if (this.tracksDepth) out.push(...this.depthEdge(this.get(this.D), 1));
          break;
        case 'close':
          out.push(this.set(this.capEnd[it.index], this.get(this.S)));
          if (this.tracksDepth) out.push(...this.depthEdge(this.get(this.D), 1));
          break;
        case 'end':
          out.push(m.br(fail, m.i32.ne(this.get(this.S), this.get(LEN))));
          break;
        case 'balance':
          out.push(...this.balance(it.open, it.close, fail));
          break;
        case 'frontier':
          out.push(...this.frontier(it.set, fail));
          break;
        case 'backref':
          if (it.position) out.push(m.br(fail)); // Lua compares against a huge length
          else out.push(...this.backref(it.index, fail));
          break;
        case 'error':
          out.push(m.return(this.c32(it.code)));
          return out;
      }
    }
    out.push(...this.success());
    return out;
  }

  success(): number[] {
    const m = this.m;
    const st = (off: number, v: number) => m.i32.store(off, 4, this.get(CAPS), v);
    const out = [st(0, this.get(this.START)), st(4, this.get(this.S))];
    for (let k = 0; k < this.ast.captureCount; k++) {
      out.push(st(8 * (k + 1), this.get(this.capStart[k])));
      out.push(st(8 * (k + 1) + 4, this.ast.positionCaptures[k] ? this.c32(-1) : this.get(this.capEnd[k])));
    }
    out.push(m.return(this.c32(1)));
    return out;
  }

  /** `x*`, `x+`, `x?`: take as many as possible, then give back one at a time. */
  greedy(k: number, set: ByteSet, quant: '*' | '+' | '?', fail: string): number[] {
    const m = this.m;
    const base = this.local();
    const count = this.local();
    const out: number[] = [this.set(base, this.get(this.S))];
    const pos = () => m.i32.add(this.get(base), this.get(count));
    if (setSize(set) === 256 && quant !== '?') {
      out.push(this.set(count, m.i32.sub(this.get(LEN), this.get(base))));
    } else {
      const done = this.label('cnt_done');
      const loop = this.label('cnt');
      const body = [
        m.br(done, m.i32.ge_u(pos(), this.get(LEN))),
        this.set(this.C, this.load(pos())),
        m.br(done, m.i32.eqz(this.test(set, this.C))),
        this.set(count, m.i32.add(this.get(count), this.c32(1))),
      ];
      if (quant === '?') out.push(this.set(count, this.c32(0)), this.blk(done, body));
      else out.push(this.set(count, this.c32(0)), this.blk(done, [m.loop(loop, this.blk(null, [...body, m.br(loop)]))]));
    }
    const min = quant === '+' ? 1 : 0;
    if (min) out.push(m.br(fail, m.i32.eqz(this.get(count))));

    // Depth of the continuation: Lua recurses once when x matched at least once
    // ('?' only while it keeps that one match).
    let depthBase = -1;
    let matched = -1;
    if (this.tracksDepth) {
      depthBase = this.local();
      out.push(this.set(depthBase, this.get(this.D)));
      if (quant === '*') {
        matched = this.local();
        out.push(this.set(matched, m.i32.ne(this.get(count), this.c32(0))));
      }
    }
    const edge = () => {
      if (!this.tracksDepth) return [];
      if (quant === '+') return this.depthEdge(this.get(depthBase), 1);
      return this.depthEdge(m.i32.add(this.get(depthBase), this.get(quant === '*' ? matched : count)), 0);
    };

    // If the rest must start with a byte x cannot match (or at the end), no
    // shorter repetition can succeed: x cannot give anything back.
    // A shorter repetition leaves a byte of `set` next, so if the rest cannot
    // start with such a byte, only the longest one can succeed.
    const next = firstInfo(this.ast.items, k + 1);
    if (next && setsDisjoint(next.set, set)) {
      out.push(this.set(this.S, pos()), ...edge(), ...this.seq(k + 1, fail));
      return out;
    }
    const exhausted = this.label('gx');
    const again = this.label('gl');
    const inner = this.label('gf');
    out.push(
      this.blk(exhausted, [
        m.loop(
          again,
          this.blk(null, [
            this.blk(inner, [this.set(this.S, pos()), ...edge(), ...this.seq(k + 1, inner)]),
            m.br(exhausted, m.i32.le_u(this.get(count), this.c32(min))),
            this.set(count, m.i32.sub(this.get(count), this.c32(1))),
            m.br(again),
          ]),
        ),
      ]),
      m.br(fail),
    );
    return out;
  }

  /** `x-`: try the rest first, then one more x, and so on. */
  lazy(k: number, set: ByteSet, fail: string): number[] {
    const m = this.m;
    const p = this.local();
    const out: number[] = [this.set(p, this.get(this.S))];
    const canStep = () => m.i32.lt_u(this.get(p), this.get(LEN));
    let depthBase = -1;
    let matched = -1;
    if (this.tracksDepth) {
      depthBase = this.local();
      matched = this.local();
      out.push(
        this.set(depthBase, this.get(this.D)),
        this.set(matched, this.c32(0)),
        m.if(
          canStep(),
          this.blk(null, [this.set(this.C, this.load(this.get(p))), this.set(matched, this.test(set, this.C))]),
        ),
      );
    }
    const exhausted = this.label('lx');
    const again = this.label('ll');
    const inner = this.label('lf');
    const body: number[] = [];
    // Skip positions where the rest cannot start (never when counting depth:
    // every attempt Lua makes may raise "pattern too complex").
    const next = firstInfo(this.ast.items, k + 1);
    if (next && !this.tracksDepth) {
      const tryIt = this.label('lt');
      const adv = this.label('la');
      body.push(
        this.blk(tryIt, [
          m.loop(
            adv,
            this.blk(null, [
              m.if(m.i32.ge_u(this.get(p), this.get(LEN)), m.br(next.atEnd ? tryIt : exhausted)),
              this.set(this.C, this.load(this.get(p))),
              m.br(tryIt, this.test(next.set, this.C)),
              m.br(exhausted, m.i32.eqz(this.test(set, this.C))),
              this.set(p, m.i32.add(this.get(p), this.c32(1))),
              m.br(adv),
            ]),
          ),
        ]),
      );
    }
    const edge = this.tracksDepth ? this.depthEdge(m.i32.add(this.get(depthBase), this.get(matched)), 0) : [];
    body.push(
      this.blk(inner, [this.set(this.S, this.get(p)), ...edge, ...this.seq(k + 1, inner)]),
      m.br(exhausted, m.i32.eqz(canStep())),
      this.set(this.C, this.load(this.get(p))),
      m.br(exhausted, m.i32.eqz(this.test(set, this.C))),
      this.set(p, m.i32.add(this.get(p), this.c32(1))),
      m.br(again),
    );
    out.push(this.blk(exhausted, [m.loop(again, this.blk(null, body))]), m.br(fail));
    return out;
  }

  /** `%bxy` */
  balance(open: number, close: number, fail: string): number[] {
    const m = this.m;
    const S = this.S;
    const depth = this.T1;
    const done = this.label('bd');
    const loop = this.label('bl');
    return [
      m.br(fail, m.i32.ge_u(this.get(S), this.get(LEN))),
      m.br(fail, m.i32.ne(this.load(this.get(S)), this.c32(open))),
      this.set(depth, this.c32(1)),
      this.blk(done, [
        m.loop(
          loop,
          this.blk(null, [
            this.set(S, m.i32.add(this.get(S), this.c32(1))),
            m.br(fail, m.i32.ge_u(this.get(S), this.get(LEN))),
            this.set(this.C, this.load(this.get(S))),
            // the closer is tested first, so `%b""` pairs consecutive quotes
            m.if(
              m.i32.eq(this.get(this.C), this.c32(close)),
              this.blk(null, [
                this.set(depth, m.i32.sub(this.get(depth), this.c32(1))),
                m.br(done, m.i32.eqz(this.get(depth))),
              ]),
              m.if(m.i32.eq(this.get(this.C), this.c32(open)), this.set(depth, m.i32.add(this.get(depth), this.c32(1)))),
            ),
            m.br(loop),
          ]),
        ),
      ]),
      this.set(S, m.i32.add(this.get(S), this.c32(1))),
    ];
  }

  /** `%f[set]`: the byte before is outside the set and the byte here is inside; '\0' beyond the ends. */
  frontier(set: ByteSet, fail: string): number[] {
    const m = this.m;
    const S = this.S;
    return [
      this.set(this.C, m.if(m.i32.eqz(this.get(S)), this.c32(0), this.load(m.i32.sub(this.get(S), this.c32(1))))),
      m.br(fail, this.test(set, this.C)),
      this.set(this.C, m.if(m.i32.ge_u(this.get(S), this.get(LEN)), this.c32(0), this.load(this.get(S)))),
      m.br(fail, m.i32.eqz(this.test(set, this.C))),
    ];
  }

  /** `%n`: the text of closed capture n again. */
  backref(index: number, fail: string): number[] {
    const m = this.m;
    const n = this.T1;
    const j = this.T2;
    const from = this.capStart[index];
    const done = this.label('rd');
    const loop = this.label('rl');
    return [
      this.set(n, m.i32.sub(this.get(this.capEnd[index]), this.get(from))),
      m.br(fail, m.i32.lt_u(m.i32.sub(this.get(LEN), this.get(this.S)), this.get(n))),
      this.set(j, this.c32(0)),
      this.blk(done, [
        m.loop(
          loop,
          this.blk(null, [
            m.br(done, m.i32.ge_u(this.get(j), this.get(n))),
            m.br(
              fail,
              m.i32.ne(
                this.load(m.i32.add(this.get(from), this.get(j))),
                this.load(m.i32.add(this.get(this.S), this.get(j))),
              ),
            ),
            this.set(j, m.i32.add(this.get(j), this.c32(1))),
            m.br(loop),
          ]),
        ),
      ]),
      this.set(this.S, m.i32.add(this.get(this.S), this.get(n))),
    ];
  }

  /**
   * Advance START to the next position where the pattern can start; `br none`
   * if there is none. Sound because an attempt whose first byte fails has no
   * effect in Lua (the depth limit cannot be hit that early).
   */
  scan(first: FirstInfo, none: string): number[] {
    const m = this.m;
    const START = this.START;
    const found = this.label('found');
    const out: number[] = [];
    const byte = singleByte(first.set);
    const body: number[] = [];
    if (this.simd && byte >= 0 && !first.atEnd) {
      this.usesSimd = true;
      const vloop = this.label('vscan');
      const vdone = this.label('vdone');
      const mask = this.T1;
      body.push(
        this.blk(vdone, [
          m.loop(
            vloop,
            this.blk(null, [
              m.br(vdone, m.i32.lt_u(m.i32.sub(this.get(LEN), this.get(START)), this.c32(16))),
              this.set(
                mask,
                m.i8x16.bitmask(
                  m.i8x16.eq(
                    m.v128.load(0, 1, m.i32.add(this.get(SUBJECT), this.get(START))),
                    m.i8x16.splat(this.c32(byte)),
                  ),
                ),
              ),
              m.if(
                this.get(mask),
                this.blk(null, [
                  this.set(START, m.i32.add(this.get(START), m.i32.ctz(this.get(mask)))),
                  m.br(found),
                ]),
              ),
              this.set(START, m.i32.add(this.get(START), this.c32(16))),
              m.br(vloop),
            ]),
          ),
        ]),
      );
    }
    const loop = this.label('scan');
    body.push(
      m.loop(
        loop,
        this.blk(null, [
          m.if(m.i32.ge_u(this.get(START), this.get(LEN)), first.atEnd ? m.br(found) : m.br(none)),
          this.set(this.C, this.load(this.get(START))),
          m.br(found, this.test(first.set, this.C)),
          this.set(START, m.i32.add(this.get(START), this.c32(1))),
          m.br(loop),
        ]),
      ),
    );
    out.push(this.blk(found, body));
    return out;
  }

  /** The whole function body: the start-position loop around the item code. */
  body(): number {
    const m = this.m;
    const none = this.label('none');
    const next = this.label('next');
    const attempt = this.label('fail');
    const once = this.ast.anchored || !this.search;
    const first = once ? null : firstInfo(this.ast.items, 0);
    const useScan = first !== null && !(setSize(first.set) === 256);
    const loopBody: number[] = [];
    if (useScan) loopBody.push(...this.scan(first, none));
    loopBody.push(
      this.blk(attempt, [
        this.set(this.S, this.get(this.START)),
        ...(this.tracksDepth ? [this.set(this.D, this.c32(1))] : []),
        ...this.seq(0, attempt),
      ]),
    );
    if (once) loopBody.push(m.br(none));
    loopBody.push(
      m.br(none, m.i32.ge_u(this.get(this.START), this.get(LEN))),
      this.set(this.START, m.i32.add(this.get(this.START), this.c32(1))),
      m.br(next),
    );
    return this.blk(null, [
      m.if(m.i32.gt_u(this.get(INIT), this.get(LEN)), m.return(this.c32(0))),
      this.set(this.START, this.get(INIT)),
      this.blk(none, [m.loop(next, this.blk(null, loopBody))]),
      m.return(this.c32(0)),
    ]);
  }
}

/** Adds `funcName(subject, len, init, caps) -> i32` for `ast` to `module`. */
export function generateMatcher(
  module: binaryen.Module,
  ast: PatternAst,
  funcName: string,
  options: CodegenOptions = {},
): CodegenResult {
  const tracksDepth = maxDepth(ast.items) > MAX_MATCH_DEPTH;
  const g = new Gen(module, ast, tracksDepth, options.simd ?? false, options.search ?? true);
  const body = g.body();
  module.addFunction(funcName, binaryen.createType([I32, I32, I32, I32]), I32, g.varTypes, body);
  return { tracksDepth, usesSimd: g.usesSimd };
}
