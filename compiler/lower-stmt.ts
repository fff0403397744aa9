// Pass 3a: statements of lower.ts — assignments, returns, structured
// control flow and Lua 5.4's numeric `for` (iteration count fixed up front).
import type * as L from 'luaparse';
import { FUEL_MESSAGE, type Val } from './lower-base.js';
import type { Lowerer } from './lower.js';
import { type Expr, type Stmt, and, bin, cond, f64, hasCall, i32, i64, not, or, readsAny, readsGlobal, un } from './ir.js';
import { addFacts, exits, factsOf, inLoop, withFacts } from './lower-facts.js';
import { lowerGmatchFor } from './strings/lower.js';
import { storeExtraReturns } from './lower-returns.js';
import { keyOf, lowerHeapFor, lowerHeapStore } from './heap/lower.js';
import { isGmatchLoop } from './strings/check.js';
import { FALSE, FLOAT, HTAB, INT, NIL, NUM, STR, TRUE, VIEW, constTy } from './types.js';

/**
 * Lowers body[from..]. A label that forward gotos reach closes a Wasm block
 * around the code before it (the goto is a `br` out of it); one that backward
 * gotos reach opens a loop around the code after it.
 */
export function lowerBlock(l: Lowerer, body: L.Statement[], from: number) {
  const start = l.out.length;
  let dead = false;
  for (let i = from; i < body.length; i++) {
    const s = body[i]!;
    if (s.type !== 'LabelStatement') {
      // after `do return end`, break, goto or error(): unreachable until a label (check skipped it too)
      if (!dead) lowerStmt(l, s);
      dead ||= exits([s]);
      continue;
    }
    dead = false;
    const info = l.c.labels.labels.get(s);
    if (!info || !(info.forward || info.backward)) continue;
    const [fwd, bwd] = gotoLabels(l, s);
    l.facts = new Map(); // control flow joins here
    l.lens = new Map();
    if (info.forward) l.out.push({ k: 'block', label: fwd, body: l.out.splice(start) });
    if (info.backward) {
      const rest = l.withOut(() => lowerBlock(l, body, i + 1));
      l.out.push({ k: 'loop', label: bwd, body: rest });
      return;
    }
  }
}

function gotoLabels(l: Lowerer, label: L.Node): [string, string] {
  let names = l.gotoLabels.get(label);
  if (!names) {
    const n = l.labelCount++;
    const name = (label as L.LabelStatement).label.name.replace(/[^A-Za-z0-9_]/g, '_');
    names = [`goto${n}_${name}`, `back${n}_${name}`];
    l.gotoLabels.set(label, names);
  }
  return names;
}

export function lowerStmt(l: Lowerer, s: L.Statement) {
  switch (s.type) {
    case 'GotoStatement': {
      const t = l.c.labels.gotos.get(s);
      if (!t) { l.reason(s, `goto '${s.label.name}'`); return; }
      const [fwd, bwd] = gotoLabels(l, t.label.node);
      // a backward goto is a loop's back edge: it costs fuel like one
      if (t.backward) l.out.push({ k: 'fuel', site: l.site(s, FUEL_MESSAGE) });
      l.out.push({ k: 'br', label: t.backward ? bwd : fwd });
      return;
    }
    case 'LocalStatement': {
      const vals = l.exprList(s.init, s.variables.length);
      s.variables.forEach((id, i) => l.declareLocal(l.c.declVar.get(id)!, vals[i]!));
      return;
    }
    case 'AssignmentStatement': {
      // table keys are evaluated before the values, as Lua does
      const keys = new Map<L.Node, Val>();
      // the table of a run-time table store, evaluated before its key
      const bases = new Map<L.Node, Val>();
      for (const t of s.variables) if (t.type !== 'Identifier') {
        if (l.ann(t.base).ty.m & HTAB) bases.set(t, l.pin(l.expr(t.base)));
        keys.set(t, keyOf(l, t));
      }
      const mark = l.out.length;
      let vals = l.exprList(s.init, s.variables.length);
      // a key that reads module state is computed before a value's call may change it
      if (hasCall(l.out.slice(mark))) for (const [t, k] of keys) if (l.exprsOf(k).some(readsGlobal)) keys.set(t, l.pin(k, mark));
      // Lua assigns only after evaluating every value: one that reads a variable assigned here is
      // computed into locals first (`a, b = b, a`; `x = x * 0.5` for an int-or-float x, whose tag
      // is stored before its payload is computed from the old tag)
      const dst = { locals: new Set<number>(), globals: new Set<string>(), writes: keys.size };
      for (const t of s.variables) if (t.type === 'Identifier') {
        const st = l.storeOf(l.ann(t).var!);
        if (st.kind === 'local') { st.ids.forEach((id) => dst.locals.add(id)); dst.writes += st.ids.length; }
        if (st.kind === 'global') { st.names.forEach((g) => dst.globals.add(g)); dst.writes += st.names.length; }
      }
      if (dst.writes > 1) {
        const stale = (v: Val) => l.exprsOf(v).some((e) => readsAny(e, dst.locals, dst.globals));
        vals = vals.map((v) => (stale(v) ? l.pin(v) : v));
        for (const [t, k] of keys) if (stale(k)) keys.set(t, l.pin(k));
      }
      s.variables.forEach((t, i) => {
        if (t.type === 'Identifier') { l.storeVar(l.ann(t).var!, vals[i]!); return; }
        const base = bases.get(t);
        if (!base) { l.reason(t, 'assignment to a table field or data view'); return; }
        lowerHeapStore(l, t as L.IndexExpression | L.MemberExpression, base, keys.get(t)!, vals[i]!);
      });
      return;
    }
    case 'CallStatement': l.expr(s.expression); return;
    case 'FunctionDeclaration': return;
    case 'ReturnStatement': {
      const vals = l.operands(s.arguments);
      if (l.info !== l.c.main) storeExtraReturns(l, l.info, vals);
      l.out.push({ k: 'ret', e: l.retExprs(vals[0] ?? { rep: 'none', ty: constTy({ k: 'nil' }) }) });
      return;
    }
    case 'IfStatement': {
      const clauses = s.clauses;
      const emit = (i: number): Stmt[] => l.withOut(() => {
        const c = clauses[i];
        if (!c) return;
        if (c.type === 'ElseClause') { withFacts(l, [], () => l.block(c.body)); return; }
        const test = l.condition(c.condition);
        let t: Stmt[] = [], f: Stmt[] = [];
        withFacts(l, factsOf(l, c.condition, true), () => { t = l.withOut(() => l.block(c.body)); });
        withFacts(l, factsOf(l, c.condition, false), () => { f = emit(i + 1); });
        l.out.push({ k: 'if', c: test, t, f });
      });
      l.out.push(...emit(0));
      // `if not v then return end`: past the statement every condition was false
      if (clauses.every((c) => c.type !== 'ElseClause' && exits(c.body)))
        for (const c of clauses) addFacts(l, factsOf(l, (c as L.IfClause).condition, false));
      return;
    }
    case 'WhileStatement': {
      const brk = `brk${l.labelCount++}`, cont = `cont${l.labelCount}`;
      const fuel = l.site(s, FUEL_MESSAGE);
      l.breakLabels.push(brk);
      let body: Stmt[] = [];
      inLoop(l, () => {
        body = l.withOut(() => {
          const test = l.condition(s.condition);
          l.out.push({ k: 'br', label: brk, c: not(test) });
          withFacts(l, factsOf(l, s.condition, true), () => l.block(s.body));
          l.out.push({ k: 'fuel', site: fuel }, { k: 'br', label: cont });
        });
      });
      l.breakLabels.pop();
      l.out.push({ k: 'block', label: brk, body: [{ k: 'loop', label: cont, body }] });
      return;
    }
    case 'RepeatStatement': {
      const brk = `brk${l.labelCount++}`, cont = `cont${l.labelCount}`;
      const fuel = l.site(s, FUEL_MESSAGE);
      l.breakLabels.push(brk);
      let body: Stmt[] = [];
      inLoop(l, () => {
        body = l.withOut(() => {
          l.block(s.body);
          const test = l.condition(s.condition);
          l.out.push({ k: 'br', label: brk, c: test }, { k: 'fuel', site: fuel }, { k: 'br', label: cont });
        });
      });
      l.breakLabels.pop();
      l.out.push({ k: 'block', label: brk, body: [{ k: 'loop', label: cont, body }] });
      return;
    }
    case 'DoStatement': l.block(s.body); return;
    case 'BreakStatement': {
      const label = l.breakLabels[l.breakLabels.length - 1];
      if (!label) { l.reason(s, 'break outside a loop'); return; }
      l.out.push({ k: 'br', label });
      return;
    }
    case 'ForNumericStatement': lowerForNum(l, s); return;
    case 'ForGenericStatement':
      if (isGmatchLoop(s)) lowerGmatchFor(l, s, (body) => inLoop(l, body), FUEL_MESSAGE);
      else lowerHeapFor(l, s);
      return;
    default: l.reason(s, `statement ${s.type}`);
  }
}

export function lowerForNum(l: Lowerer, s: L.ForNumericStatement) {
  const v = l.c.declVar.get(s.variable)!;
  const one: Val = { rep: 'none', ty: constTy({ k: 'int', v: 1n }) };
  const [a, b, c] = [...l.operands([s.start, s.end, ...(s.step ? [s.step] : [])]), one] as [Val, Val, Val];
  // Lua 5.4: an integer initial value and step make an integer loop (as check decided). Not
  // v's type: the body may assign the control variable (an ordinary local) other types
  const isInt = (a.ty.m & NUM) === INT && (c.ty.m & NUM) === INT;
  /** each iteration's copy of the counter into the control variable */
  const setCtr = (e: Expr) => l.storeVar(v, { rep: isInt ? 'int' : 'float', e, ty: { m: isInt ? INT : FLOAT } });
  const names = ['initial value', 'limit', 'step'];
  const num = (x: Val, i: number, node: L.Node | null) => {
    for (const kind of [NIL, FALSE, TRUE, STR, VIEW]) if (x.ty.m & kind)
      l.guard(l.isKind(x, kind), l.site(node ?? s, `'for' ${names[i]} must be a number`));
    if (isInt) return l.intOf(x);
    return l.toFloat(x);
  };
  const brk = `brk${l.labelCount++}`, cont = `cont${l.labelCount}`;
  const fuel = l.site(s, FUEL_MESSAGE);
  const zeroStep = l.site(s, "'for' step is zero");
  if (isInt) {
    const i0 = num(a, 0, s.start), st = num(c, 2, s.step);
    num(b, 1, s.end);
    const [I, Lm, St, N] = [l.temp('i64', 'i'), l.temp('i64', 'lim'), l.temp('i64', 'step'), l.temp('i64', 'n')];
    const g = (l: number): Expr => ({ k: 'get', l, ty: 'i64' });
    l.out.push({ k: 'set', l: I, e: i0 }, { k: 'set', l: St, e: st });
    l.guard(bin('i64.eq', g(St), i64(0n)), zeroStep);
    const { value, skip: outside } = forLimit(l, b, g(St));
    l.out.push({ k: 'set', l: Lm, e: value });
    const pos = bin('i64.gt_s', g(St), i64(0n));
    const skip = or(outside, cond(pos, bin('i64.gt_s', g(I), g(Lm)), bin('i64.lt_s', g(I), g(Lm)), 'i32'));
    // Lua 5.4: the iteration count is computed up front, so the loop never overflows
    const count = cond(pos, bin('i64.div_u', bin('i64.sub', g(Lm), g(I)), g(St)),
      bin('i64.div_u', bin('i64.sub', g(I), g(Lm)), bin('i64.add', bin('i64.sub', i64(0n), bin('i64.add', g(St), i64(1n))), i64(1n))), 'i64');
    l.breakLabels.push(brk);
    const body = l.withOut(() => {
      setCtr(g(I));
      inLoop(l, () => l.block(s.body));
      l.out.push({ k: 'br', label: brk, c: bin('i64.eq', g(N), i64(0n)) });
      l.out.push({ k: 'set', l: N, e: bin('i64.sub', g(N), i64(1n)) }, { k: 'set', l: I, e: bin('i64.add', g(I), g(St)) });
      l.out.push({ k: 'fuel', site: fuel }, { k: 'br', label: cont });
    });
    l.breakLabels.pop();
    l.out.push({ k: 'block', label: brk, body: [{ k: 'br', label: brk, c: skip }, { k: 'set', l: N, e: count }, { k: 'loop', label: cont, body }] });
    return;
  }
  const i0 = num(a, 0, s.start), lim = num(b, 1, s.end), st = num(c, 2, s.step);
  const [I, Lm, St] = [l.temp('f64', 'i'), l.temp('f64', 'lim'), l.temp('f64', 'step')];
  const g = (l: number): Expr => ({ k: 'get', l, ty: 'f64' });
  l.out.push({ k: 'set', l: I, e: i0 }, { k: 'set', l: Lm, e: lim }, { k: 'set', l: St, e: st });
  l.guard(bin('f64.eq', g(St), f64(0)), zeroStep);
  // lvm.c forprep skips only when `limit < init` (`init < limit` unless 0 < step) and
  // floatforloop goes on while `idx <= limit` (`limit <= idx`): a NaN runs the body once
  const pos = bin('f64.lt', f64(0), g(St));
  const skip = cond(pos, bin('f64.lt', g(Lm), g(I)), bin('f64.lt', g(I), g(Lm)), 'i32');
  const more = cond(pos, bin('f64.le', g(I), g(Lm)), bin('f64.le', g(Lm), g(I)), 'i32');
  l.breakLabels.push(brk);
  const body = l.withOut(() => {
    setCtr(g(I));
    inLoop(l, () => l.block(s.body));
    l.out.push({ k: 'set', l: I, e: bin('f64.add', g(I), g(St)) }, { k: 'br', label: brk, c: not(more) });
    l.out.push({ k: 'fuel', site: fuel }, { k: 'br', label: cont });
  });
  l.breakLabels.pop();
  l.out.push({ k: 'block', label: brk, body: [{ k: 'br', label: brk, c: skip }, { k: 'loop', label: cont, body }] });
}


const TWO63 = 9223372036854775808;

/**
 * Lua 5.4's forlimit: a float limit of an integer loop is floored (ceiled for
 * a negative step); one beyond the integer range is clipped, or skips the
 * loop when the initial value cannot reach it. NaN skips a rising loop.
 */
function forLimit(l: Lowerer, b: Val, step: Expr): { value: Expr; skip: Expr } {
  if (!(b.ty.m & FLOAT)) return { value: l.intOf(b), skip: i32(0) };
  const f = l.floatOf(b);
  const r = cond(bin('i64.lt_s', step, i64(0n)), un('f64.ceil', f, 'f64'), un('f64.floor', f, 'f64'), 'f64');
  const fits = and(bin('f64.ge', r, f64(-TWO63)), bin('f64.lt', r, f64(TWO63)));
  const positive = bin('f64.lt', f64(0), f);
  const clipped = cond(fits, un('i64.trunc_f64_s', r, 'i64'), cond(positive, i64((1n << 63n) - 1n), i64(-(1n << 63n)), 'i64'), 'i64');
  const isFloat = l.isKind(b, FLOAT);
  const value = cond(isFloat, clipped, l.intOf(b), 'i64');
  const skip = and(isFloat, and(not(fits), cond(positive, bin('i64.lt_s', step, i64(0n)), bin('i64.gt_s', step, i64(0n)), 'i32')));
  return { value, skip };
}
