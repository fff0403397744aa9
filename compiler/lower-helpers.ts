// Runtime helpers written in the IR, added to a module only when used.
// fmod: C's fmod, exactly. Wasm has no remainder for floats, and
// a - trunc(a/b)*b rounds; this is binary long division, where every
// subtraction is exact (t <= r < 2t, Sterbenz), so the result is too.
import { type Expr, type IRFunc, bin, cond, f64, or, un } from './ir.js';

const get = (l: number): Expr => ({ k: 'get', l, ty: 'f64' });

function fmod(): IRFunc {
  const [X, Y, R, T] = [0, 1, 2, 3];
  const nan = or(or(bin('f64.ne', get(X), get(X)), bin('f64.ne', get(Y), get(Y))),
    or(bin('f64.eq', get(Y), f64(0)), bin('f64.eq', un('f64.abs', get(X), 'f64'), f64(Infinity))));
  return {
    name: 'fmod', params: ['f64', 'f64'], results: ['f64'],
    locals: [{ ty: 'f64', name: 'x' }, { ty: 'f64', name: 'y' }, { ty: 'f64', name: 'r' }, { ty: 'f64', name: 't' }],
    body: [
      { k: 'if', c: nan, t: [{ k: 'ret', e: [f64(NaN)] }], f: [] },
      { k: 'set', l: R, e: un('f64.abs', get(X), 'f64') },
      { k: 'set', l: T, e: un('f64.abs', get(Y), 'f64') },
      // |x| < |y| (including |y| = inf): x itself
      { k: 'if', c: bin('f64.lt', get(R), get(T)), t: [{ k: 'ret', e: [get(X)] }], f: [] },
      // t = |y| * 2^k, the largest such t <= r (doubling is exact; overflow gives inf > r)
      { k: 'block', label: 'up_done', body: [{ k: 'loop', label: 'up', body: [
        { k: 'br', label: 'up_done', c: bin('f64.gt', bin('f64.add', get(T), get(T)), get(R)) },
        { k: 'set', l: T, e: bin('f64.add', get(T), get(T)) },
        { k: 'br', label: 'up' },
      ] }] },
      // for k down to 0: if r >= t then r -= t; halving t back to |y| is exact
      { k: 'block', label: 'down_done', body: [{ k: 'loop', label: 'down', body: [
        { k: 'if', c: bin('f64.ge', get(R), get(T)), t: [{ k: 'set', l: R, e: bin('f64.sub', get(R), get(T)) }], f: [] },
        { k: 'br', label: 'down_done', c: bin('f64.le', get(T), un('f64.abs', get(Y), 'f64')) },
        { k: 'set', l: T, e: bin('f64.mul', get(T), f64(0.5)) },
        { k: 'br', label: 'down' },
      ] }] },
      { k: 'ret', e: [cond(bin('f64.lt', get(X), f64(0)), un('f64.neg', get(R), 'f64'), get(R), 'f64')] },
    ],
  };
}

const HELPERS: Record<string, () => IRFunc> = { fmod };

export function helperFuncs(names: Iterable<string>): IRFunc[] {
  return [...names].sort().map((n) => {
    const make = HELPERS[n];
    if (!make) throw new Error(`internal: unknown helper ${n}`);
    return make();
  });
}
