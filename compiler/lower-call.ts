// Pass 3c: calls in lower.ts — view methods (layout, segment), script
// functions (and pcall of them), and the builtins the subset compiles.
// In a script whose calls may nest deeper than MAX_CALL_DEPTH (callgraph.ts)
// every call of a script function counts in the global CALL_DEPTH; one past
// the limit is the error CALL_DEPTH_MESSAGE at the call (docs/SEMANTICS.md).
import type * as L from 'luaparse';
import type { Ann, FnInfo } from './check-result.js';
import { NIL_VIEW, wtypes, type Val } from './lower-base.js';
import type { Lowerer } from './lower.js';
import { type Expr, type Stmt, bin, cond, i32, i64, not } from './ir.js';
import { CALL_DEPTH_MESSAGE, MAX_CALL_DEPTH } from './abi.js';
import { callArgs } from './parse.js';
import { FLOAT, FUNC, INT, KIND_OF_TAG, constTy, luaTypeName, repOf, type Ty } from './types.js';
import { lowerArith } from './lower-ops.js';
import { constStr, lowerStringCall } from './strings/lower.js';
import { isStringBuiltin } from './strings/builtins.js';
import { loadExtraReturns } from './lower-returns.js';
import { lowerHeapSequenceCall } from './heap/lower.js';

export function lowerCall(l: Lowerer, e: L.CallExpression | L.TableCallExpression | L.StringCallExpression, a: Ann): Val {
  const args = callArgs(e);
  if (a.builtin === 'layout' || a.builtin === 'segment') {
    const base = (e.base as L.MemberExpression).base;
    const view = l.needView(l.expr(base), base, 'index');
    if (a.builtin === 'layout') return { rep: 'view', e: view, ty: a.ty };
    const vals = l.operands(args);
    return l.segment(view, vals, args);
  }
  if (a.callees) return lowerValueCall(l, e, a.callees, args, a.ty);
  if (a.callee) {
    const f = a.callee;
    const pcall = a.builtin === 'pcall';
    const vals = l.operands(pcall ? args.slice(1) : args);
    const argExprs: Expr[] = [];
    f.params.forEach((p, i) => argExprs.push(...l.exprsOf(l.coerce(vals[i] ?? { rep: 'none', ty: constTy({ k: 'nil' }) }, p.ty))));
    const rep = repOf(f.retTy) ?? 'none';
    const dst = wtypes(rep).map((w) => l.temp(w, 'r'));
    if (pcall) {
      const status = l.temp('i32', 'ok');
      const call: Stmt = { k: 'call', fn: l.fnName(f), args: argExprs, dst, status };
      l.out.push(...(l.countDepth ? countedPcall(l, call, status) : [call]));
      return { rep: 'bool', e: { k: 'get', l: status, ty: 'i32' }, ty: a.ty };
    }
    const call: Stmt = { k: 'call', fn: l.fnName(f), args: argExprs, dst };
    l.out.push(...(l.countDepth ? counted(l, e, call) : [call]));
    if (f.extraRet.length) { const extra = loadExtraReturns(l, f); l.extraVals = () => extra; }
    return l.fromLocals(f.retTy, rep, dst);
  }
  const name = a.builtin;
  if (name && isStringBuiltin(name)) return lowerStringCall(l, e, a);
  if (name === 'require' || name === 'data.layout') return { rep: 'none', ty: a.ty };
  if (name === 'table.insert' || name === 'table.remove') {
    return lowerHeapSequenceCall(l, name, args, l.operands(args), a.ty, e);
  }
  if (name === 'error') {
    const m = args[0] ? l.ann(args[0]).ty.c : undefined;
    const msg = !m || m.k === 'nil' ? 'nil' : m.k === 'str' ? m.v : '(error object is not a string)';
    for (const x of args) l.expr(x);
    l.out.push({ k: 'error', site: l.site(e, msg) });
    return { rep: 'none', ty: a.ty };
  }
  if (name === 'assert') {
    const vals = l.operands(args);
    const v = vals[0] ?? { rep: 'none', ty: constTy({ k: 'nil' }) };
    const m = args[1] ? l.ann(args[1]).ty.c : undefined;
    l.guard(not(l.truthy(v)), l.site(e, m?.k === 'str' ? m.v : 'assertion failed!'));
    return l.narrow(v, a.ty);
  }
  if (name === 'math.min' || name === 'math.max' || name === 'math.abs') {
    return lowerArith(l, e, name, args, a.ty);
  }
  if (name === 'type') {
    const v = l.keep(l.expr(args[0]!));
    if (a.ty.c) return { rep: 'none', ty: a.ty };
    l.usesStrings = true;
    // one test per kind the value may have, the last one needing none
    const kinds = KIND_OF_TAG.filter((k) => v.ty.m & k);
    let e: Expr = constStr(l, luaTypeName(kinds[kinds.length - 1]!));
    for (let i = kinds.length - 2; i >= 0; i--) e = cond(l.isKind(v, kinds[i]!), constStr(l, luaTypeName(kinds[i]!)), e, 'i64');
    return { rep: 'view', e, ty: a.ty };
  }
  if (name === 'math.type') {
    const v = l.keep(l.expr(args[0]!));
    if (a.ty.c) return { rep: 'none', ty: a.ty };
    const str = (s: string) => constStr(l, s);
    return { rep: 'view', e: cond(l.isKind(v, INT), str('integer'), cond(l.isKind(v, FLOAT), str('float'), i64(NIL_VIEW), 'i64'), 'i64'), ty: a.ty };
  }
  l.reason(e, `call to ${name ?? 'an unknown function'}`);
  return { rep: 'none', ty: a.ty };
}

/**
 * A call of a function value: the value is checked to be a function (Lua's
 * "attempt to call a nil value (local 'f')"), then its id picks one of the
 * script functions check found it may be, each called directly with the
 * arguments in the representations of its own parameters.
 */
function lowerValueCall(l: Lowerer, e: L.CallExpression | L.TableCallExpression | L.StringCallExpression, fs: FnInfo[], args: L.Expression[], ty: Ty): Val {
  const callee = l.keep(l.expr(e.base));
  for (const kind of KIND_OF_TAG) if (kind !== FUNC && callee.ty.m & kind)
    l.guard(l.isKind(callee, kind), l.site(e, `attempt to call a ${luaTypeName(kind)} value${l.varInfo(e.base)}`));
  const id = l.keep({ rep: 'int', e: l.intOf(callee), ty: { m: INT } }) as { e: Expr };
  const vals = l.operands(args);
  const rep = repOf(ty) ?? 'none';
  const dst = wtypes(rep).map((w) => l.temp(w, 'fr'));
  if (fs.length === 0) {
    // no function reaches here: the guards above fail (or, for a value that never exists, this)
    l.out.push({ k: 'error', site: l.site(e, `attempt to call a nil value${l.varInfo(e.base)}`) });
    return l.fromLocals(ty, rep, dst);
  }
  const arm = (f: FnInfo): Stmt[] => l.withOut(() => {
    const argExprs: Expr[] = [];
    f.params.forEach((p, i) => argExprs.push(...l.exprsOf(l.coerce(vals[i] ?? { rep: 'none', ty: constTy({ k: 'nil' }) }, p.ty))));
    const frep = repOf(f.retTy) ?? 'none';
    const out = wtypes(frep).map((w) => l.temp(w, 'r'));
    const call: Stmt = { k: 'call', fn: l.fnName(f), args: argExprs, dst: out };
    l.out.push(...(l.countDepth ? counted(l, e, call) : [call]));
    const res = l.exprsOf(l.coerce(l.fromLocals(f.retTy, frep, out), ty));
    res.forEach((x, i) => l.out.push({ k: 'set', l: dst[i]!, e: x }));
  });
  // the last candidate needs no test: the value is a function, and one of these
  let chain: Stmt[] = arm(fs[fs.length - 1]!);
  for (let i = fs.length - 2; i >= 0; i--) chain = [{ k: 'if', c: bin('i64.eq', id.e, i64(BigInt(fs[i]!.id))), t: arm(fs[i]!), f: chain }];
  l.out.push(...chain);
  return l.fromLocals(ty, rep, dst);
}

/** The Wasm global counting the script's calls in progress. */
export const CALL_DEPTH = 'call_depth';
const depth: Expr = { k: 'gget', g: CALL_DEPTH, ty: 'i32' };

/**
 * A call one level deeper: past the limit, the error at `at`. An error
 * returns past the decrement; whatever catches it (pcall, or the next
 * packet) sets the depth back.
 */
function counted(l: Lowerer, at: L.Node, call: Stmt): Stmt[] {
  return [
    { k: 'gset', g: CALL_DEPTH, e: bin('i32.add', depth, i32(1)) },
    { k: 'if', c: bin('i32.gt_s', depth, i32(MAX_CALL_DEPTH)), t: [{ k: 'error', site: l.site(at, CALL_DEPTH_MESSAGE) }], f: [] },
    call,
    { k: 'gset', g: CALL_DEPTH, e: bin('i32.sub', depth, i32(1)) },
  ];
}

/** pcall(f): one past the limit is an error pcall catches (status false); the depth is restored either way. */
function countedPcall(l: Lowerer, call: Stmt, status: number): Stmt[] {
  const saved = l.temp('i32', 'depth');
  return [
    { k: 'set', l: saved, e: depth },
    { k: 'if', c: bin('i32.ge_s', depth, i32(MAX_CALL_DEPTH)), t: [{ k: 'set', l: status, e: i32(0) }],
      f: [{ k: 'gset', g: CALL_DEPTH, e: bin('i32.add', depth, i32(1)) }, call] },
    { k: 'gset', g: CALL_DEPTH, e: { k: 'get', l: saved, ty: 'i32' } },
  ];
}
