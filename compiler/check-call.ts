// Pass 2b: the parts of check.ts that know about data views, layouts and
// calls: field reads resolve to bit offsets, `d:layout(t)` and `d:segment()`,
// constant-table indexing, calls of script functions and of the few compiled
// builtins.
import type * as L from 'luaparse';
import type { Ann, FnInfo } from './check-result.js';
import type { Call, Checker, State } from './check.js';
import {
  BOTTOM, BUILTIN, DATA, FALSY, FUNC, FieldDef, HTAB, INT, KIND_OF_TAG, UNKNOWN, luaTypeName, LAYOUT, LSet, LayoutDef, NIL, NO_LAYOUT, NUM, STATIC,
  STR, TABLE, TableDef, Ty, VIEW, constTy, join, lsEq, lsJoin, only, repOf, without, FALSE, TRUE, FLOAT,
} from './types.js';
import { uncompiledCall } from './check-reasons.js';
import { callArgs } from './parse.js';
import { STRING_METHODS, isStringBuiltin } from './strings/builtins.js';
import { checkStringCall } from './strings/check.js';
import { heapRead, heapSequenceCall } from './heap/check.js';

const COMPILED_BUILTINS = new Set(['require', 'error', 'assert', 'pcall', 'math.min', 'math.max', 'math.abs', 'math.type', 'data.layout', 'type']);
const BOOL_MASK = FALSE | TRUE;
/** Largest offset and length of a layout field (2^40 bits is far past any packet): lower adds the two in i64 without overflow. */
const MAX_FIELD_EXTENT = 1n << 40n;

export function checkMember(ck: Checker, e: L.MemberExpression, st: State): Ann {
  const b = ck.expr(e.base, st);
  const name = e.identifier.name;
  const c = b.ty.c;
  if (c?.k === 'data' && b.ty.m === DATA) {
    if (name !== 'layout') ck.reason(e, uncompiledCall(`data.${name}`), 'never');
    return ck.set(e, { ty: constTy({ k: 'builtin', name: 'data.' + name }) });
  }
  if (c?.k === 'builtin' && b.ty.m === BUILTIN) {
    const full = `${c.name}.${name}`;
    if (full === 'math.maxinteger') return ck.set(e, { ty: constTy({ k: 'int', v: (1n << 63n) - 1n }) });
    if (full === 'math.mininteger') return ck.set(e, { ty: constTy({ k: 'int', v: -(1n << 63n) }) });
    if (full === 'math.huge') return ck.set(e, { ty: constTy({ k: 'float', v: Infinity }) });
    if (full === 'math.pi') return ck.set(e, { ty: constTy({ k: 'float', v: Math.PI }) });
    return ck.set(e, { ty: constTy({ k: 'builtin', name: full }) });
  }
  if (b.ty.m & HTAB) return heapRead(ck, e, b.ty, st);
  if (c?.k === 'table' && b.ty.m === TABLE) {
    const ent = ck.tables[c.id]!.entries.find((x) => x.key.k === 'str' && x.key.v === name);
    return ck.set(e, { ty: constTy(ent ? ent.value : { k: 'nil' }) });
  }
  if (b.ty.m & VIEW) {
    if (b.ty.m & ~(VIEW | NIL)) ck.reason(e, 'field read on a value that may not be a data view');
    if (name === 'layout' || name === 'segment') ck.reason(e, `method '${name}' used as a value`);
    return ck.set(e, { ty: ck.fieldTy(e, b.ls ?? new Set([NO_LAYOUT]), name), field: ck.lastField });
  }
  ck.reason(e, `field '${name}' of a ${b.ty.m === NIL ? 'nil value' : 'non-data value'}`, 'operands');
  return ck.set(e, { ty: ck.unknown() });
}

export function fieldType(ck: Checker, e: L.Node, ls: LSet, name: string): Ty {
  let def: FieldDef | null | undefined;
  let same = true;
  for (const id of ls) {
    const f = id === NO_LAYOUT ? null : ck.layouts[id]!.fields.get(name) ?? null;
    if (def === undefined) def = f;
    else if (JSON.stringify(def) !== JSON.stringify(f)) same = false;
  }
  if (!same) ck.reason(e, `layout of the view is not known here: field '${name}' differs between the layouts it may have`);
  ck.lastField = def ?? null;
  if (!def) return constTy({ k: 'nil' });
  if (def.kind === 'string') return { m: STR | NIL };
  if (def.length === 0 || def.length > 64) return constTy({ k: 'nil' });
  if (def.little && def.length > 8 && (def.offset % 8 !== 0 || def.length % 8 !== 0))
    ck.reason(e, `little-endian field '${name}' that is not whole bytes`);
  return { m: INT | NIL };
}

export function checkIndex(ck: Checker, e: L.IndexExpression, st: State): Ann {
  const b = ck.expr(e.base, st);
  if (b.ty.m & HTAB) return heapRead(ck, e, b.ty, st);
  const k = ck.expr(e.index, st).ty;
  const c = b.ty.c;
  if (c?.k === 'table' && b.ty.m === TABLE) {
    const t = ck.tables[c.id]!;
    let kc = k.c && constTy(k.c).m === k.m ? k.c : undefined;
    if (kc?.k === 'float' && Number.isInteger(kc.v)) kc = { k: 'int', v: BigInt(kc.v) };
    if (kc) {
      const ent = t.entries.find((x) => x.key.k === kc!.k && (x.key as { v: unknown }).v === (kc as { v: unknown }).v);
      return ck.set(e, { ty: constTy(ent ? ent.value : { k: 'nil' }) });
    }
    if (k.m & (STATIC | BOOL_MASK)) ck.reason(e, 'table index with a non-constant key that is not a number or string');
    let ty: Ty = constTy({ k: 'nil' });
    for (const x of t.entries) if (((x.key.k === 'int' || x.key.k === 'float') && k.m & NUM) || (x.key.k === 'str' && k.m & STR)) {
      if (x.value.k === 'table' || x.value.k === 'layout' || x.value.k === 'func') ck.reason(e, 'table of tables indexed with a variable key');
      ty = join(ty, constTy(x.value));
    }
    return ck.set(e, { ty });
  }
  ck.reason(e, b.ty.m & VIEW ? 'indexing a data view with []' : 'indexing a value that is not a constant table', 'operands');
  return ck.set(e, { ty: ck.unknown() });
}

export function layoutArg(ck: Checker, node: L.Expression, a: Ann): number | null {
  if (a.ty.c?.k === 'layout' && a.ty.m === LAYOUT) return a.ty.c.id;
  if (a.ty.c?.k === 'table' && a.ty.m === TABLE) return ck.makeLayout(node, ck.tables[a.ty.c.id]!);
  ck.reason(node, 'layout argument is not a constant layout table');
  return null;
}

export function makeLayout(ck: Checker, node: L.Node, t: TableDef): number | null {
  const cached = ck.layoutOf.get(node);
  const fields = new Map<string, FieldDef>();
  for (const { key, value } of t.entries) {
    if (key.k !== 'str') continue;
    if (value.k !== 'table') { ck.reason(node, `layout field '${key.v}' is not a table`); continue; }
    const ents = ck.tables[value.id]!.entries;
    const get = (pos: bigint, name: string) =>
      ents.find((x) => x.key.k === 'str' && x.key.v === name)?.value ?? ents.find((x) => x.key.k === 'int' && x.key.v === pos)?.value;
    const off = get(1n, 'offset'), len = get(2n, 'length'), typ = get(3n, 'type'), end = get(4n, 'endian');
    if (off?.k !== 'int' || len?.k !== 'int' || off.v < 0n || len.v < 0n || off.v > MAX_FIELD_EXTENT || len.v > MAX_FIELD_EXTENT) {
      ck.reason(node, `layout field '${key.v}' needs integer offset and length`); continue;
    }
    const kind = typ?.k === 'str' && typ.v.startsWith('s') ? 'string' : 'number';
    const little = end?.k === 'str' && (end.v.startsWith('l') || end.v.startsWith('h'));
    fields.set(key.v, { name: key.v, kind, offset: Number(off.v), length: Number(len.v), little });
  }
  if (cached) { cached.fields = fields; return cached.id; }
  const lc = node.loc!.start;
  const def: LayoutDef = { id: ck.layouts.length, fields, line: lc.line, column: lc.column + 1 };
  ck.layouts.push(def);
  ck.layoutOf.set(node, def);
  return def.id;
}

export function checkCall(ck: Checker, e: L.CallExpression | L.TableCallExpression | L.StringCallExpression, st: State): Ann {
  const args = callArgs(e);
  const base = e.base;
  // method calls on views
  if (base.type === 'MemberExpression' && base.indexer === ':') {
    const recv = ck.expr(base.base, st);
    const name = base.identifier.name;
    const as = args.map((a) => ck.expr(a, st));
    if (as[as.length - 1]?.multi) ck.reason(e, 'the value list of string.find, match or byte as the last argument');
    if (!(recv.ty.m & VIEW) && STRING_METHODS.has(name))
      return checkStringCall(ck, e, 'string.' + name, [base.base, ...args], [recv, ...as], true);
    if (!(recv.ty.m & VIEW) && recv.ty.m & STR && !STRING_METHODS.has(name)) {
      ck.reason(e, uncompiledCall(`string.${name}`), 'operands');
      return ck.set(e, { ty: ck.unknown() });
    }
    if (!(recv.ty.m & VIEW) || recv.ty.m & ~(VIEW | NIL)) {
      ck.reason(e, `method '${name}' called on a value that is not a data view`, 'operands');
      return ck.set(e, { ty: ck.unknown() });
    }
    if (name === 'layout') {
      if (as.length !== 1) ck.reason(e, 'layout takes one argument');
      const id = as[0] ? ck.layoutArg(args[0]!, as[0]) : null;
      const ls = new Set([id ?? NO_LAYOUT]);
      if (base.base.type === 'Identifier') st.layouts.set(ck.refVar.get(base.base)!, ls);
      return ck.set(e, { ty: { m: VIEW }, ls, builtin: 'layout' });
    }
    if (name === 'segment') {
      if (as.length > 2) ck.reason(e, 'segment takes at most two arguments');
      as.forEach((a, i) => { if (a.ty.m & ~(INT | NIL)) ck.reason(args[i]!, 'segment argument that may not be an integer'); });
      return ck.set(e, { ty: { m: VIEW | NIL }, ls: new Set([NO_LAYOUT]), builtin: 'segment' });
    }
    ck.reason(e, `data views have no method '${name}' (they have layout and segment)`, 'operands');
    return ck.set(e, { ty: ck.unknown() });
  }
  const callee = ck.expr(base, st);
  const as = args.map((a) => ck.expr(a, st));
  const c = callee.ty.c;
  if (as[as.length - 1]?.multi && !(c?.k === 'func' && ck.fns[c.id]!.params.length <= as.length))
    ck.reason(e, 'the value list of string.find, match or byte as the last argument');
  if (c?.k === 'func' && callee.ty.m === FUNC) {
    const f = ck.fns[c.id]!;
    callFn(ck, e, f, args, as, st);
    return ck.set(e, { ty: f.retTy, ls: f.retLayouts, callee: f, multi: f.extraRet.length > 0 || undefined });
  }
  // a function value (from a table, a parameter, a variable holding one of several functions)
  if (callee.ty.m & FUNC && callee.ty.fns && repOf(callee.ty) === 'dyn') {
    const fs = [...callee.ty.fns].sort((a, b) => a - b).map((id) => ck.fns[id]!);
    let ty: Ty = BOTTOM;
    for (const f of fs) {
      if (as.some((a) => a.ty.m & VIEW)) ck.reason(e, 'a data view passed to a function value');
      if (f.extraRet.length) ck.reason(e, `call of a function value that may be '${f.name}', which returns more than one value`);
      callFn(ck, e, f, args, as, st);
      ty = join(ty, f.retTy);
    }
    return ck.set(e, { ty, callees: fs });
  }
  if (c?.k === 'builtin' && callee.ty.m === BUILTIN && c.name === 'pcall') {
    // pcall(f, ...) of a script function: the status is compiled; the error
    // message is a string that is not (see multipleResults)
    const fc = as[0]?.ty.c;
    if (fc?.k !== 'func' || as[0]!.ty.m !== FUNC) {
      ck.reason(e, 'pcall of a value that is not a known script function');
      return ck.set(e, { ty: { m: FALSE | TRUE } });
    }
    const f = ck.fns[fc.id]!;
    callFn(ck, e, f, args.slice(1), as.slice(1), st);
    return ck.set(e, { ty: { m: FALSE | TRUE }, callee: f, builtin: 'pcall' });
  }
  if (c?.k === 'builtin' && callee.ty.m === BUILTIN) {
    const name = c.name;
    if (isStringBuiltin(name)) return checkStringCall(ck, e, name, args, as, false);
    if (name === 'table.insert' || name === 'table.remove') {
      if (as[0] && as[0].ty.m & HTAB) return ck.set(e, { ty: heapSequenceCall(ck, e, name, args, as), builtin: name });
      ck.reason(e, `${name} of a value that is not a run-time table`, 'operands');
      return ck.set(e, { ty: ck.unknown() });
    }
    if (!COMPILED_BUILTINS.has(name)) { ck.reason(e, uncompiledCall(name), 'never'); return ck.set(e, { ty: ck.unknown() }); }
    switch (name) {
      case 'require':
        if (as[0]?.ty.c?.k !== 'str' || as[0].ty.c.v !== 'data') ck.reason(e, "require of a module other than 'data'");
        return ck.set(e, { ty: constTy({ k: 'data' }), builtin: name });
      case 'data.layout': {
        const id = as[0] ? ck.layoutArg(args[0]!, as[0]) : null;
        if (id === null) return ck.set(e, { ty: { m: LAYOUT } });
        return ck.set(e, { ty: constTy({ k: 'layout', id }), builtin: name });
      }
      case 'error':
        if (as[0] && as[0].ty.m & ~(STR | NIL) || as[0] && !as[0].ty.c && as[0].ty.m & STR)
          ck.reason(e, 'error with a value that is not a constant string');
        return ck.set(e, { ty: BOTTOM, builtin: name });
      case 'assert': {
        const t = as[0]?.ty ?? constTy({ k: 'nil' });
        if (as[1] && !(as[1].ty.c?.k === 'str' && as[1].ty.m === STR)) ck.reason(e, 'assert message that is not a constant string');
        if (t.m & STATIC) ck.reason(e, 'assert of a function, table or layout');
        return ck.set(e, { ty: without(t, FALSY), ls: as[0]?.ls, builtin: name });
      }
      case 'math.min': case 'math.max': case 'math.abs': {
        if (as.length === 0 || (name === 'math.abs' && as.length !== 1)) ck.reason(e, `${name} with a wrong number of arguments`);
        const ty = ck.numResult(e, as.map((a) => a.ty), false);
        return ck.set(e, { ty: only(ty, NUM), builtin: name });
      }
      case 'type': {
        // the name of the value's type: a constant when its kinds all have one name
        if (as.length !== 1) ck.reason(e, "bad argument #1 to 'type' (value expected)");
        const t = as[0]?.ty ?? constTy({ k: 'nil' });
        if (t.m & (LAYOUT | DATA | BUILTIN)) ck.reason(e, 'type of a layout or library table');
        // luadata's views are userdata, the interpreter's are tables with a metatable: no answer both give
        if (t.m & VIEW) ck.reason(e, 'type of a data view');
        const names = new Set(KIND_OF_TAG.filter((k) => t.m & k).map(luaTypeName));
        if (t.m & TABLE) names.add('table');
        return ck.set(e, { ty: names.size === 1 ? constTy({ k: 'str', v: [...names][0]! }) : { m: STR }, builtin: name });
      }
      case 'math.type': {
        // 'integer', 'float' or nil (not a number): a constant when only one can be
        if (as.length !== 1) ck.reason(e, 'math.type with a wrong number of arguments');
        const m = as[0]?.ty.m ?? NIL;
        const outs: Ty[] = [];
        if (m & INT) outs.push(constTy({ k: 'str', v: 'integer' }));
        if (m & FLOAT) outs.push(constTy({ k: 'str', v: 'float' }));
        if (m & ~NUM) outs.push(constTy({ k: 'nil' }));
        return ck.set(e, { ty: outs.length === 1 ? outs[0]! : { m: outs.reduce((x, t) => x | t.m, 0) }, builtin: name });
      }
    }
  }
  if (callee.ty.m === NIL && base.type === 'Identifier' && ck.refVar.get(base)?.kind === 'global')
    ck.reason(e, `call to '${base.name}', a global that is never assigned (nil)`, 'never');
  else if (!(callee.ty.m & (STATIC | UNKNOWN))) {
    // no function flows here (a parameter no call passes one to, a nil): calling it is Lua's run-time error
    for (const a of as) if (a.ty.m & VIEW) ck.reason(e, 'a data view passed to a function value');
    return ck.set(e, { ty: BOTTOM, callees: [] });
  } else ck.reason(e, 'call of a value that is not a known function', 'operands');
  return ck.set(e, { ty: ck.unknown() });
}

/** A pcall whose results beyond the status would be used (they include the error message). */
export function multipleResults(ck: Checker, es: L.Expression[], wanted: number): void {
  const last = es[es.length - 1];
  if (last && wanted > es.length && ck.ann.get(last)?.builtin === 'pcall' && !ck.p.parens.has(last))
    ck.reason(last, 'results of pcall other than its status (the error message is a string)');
}

/** Argument types flow into the parameters; views come back with the layout the callee left. */
function callFn(ck: Checker, e: Call, f: FnInfo, args: L.Expression[], as: Ann[], st: State): void {
  if (as.length > f.params.length) ck.reason(e, 'call with more arguments than parameters');
  multipleResults(ck, args, f.params.length);
  f.params.forEach((p, i) => {
    const a = as[i] ?? { ty: constTy({ k: 'nil' }) };
    ck.assignVar(p, a.ty, args[i] ?? e);
    if (a.ty.m & STATIC && !(a.ty.m === FUNC && a.ty.c) && repOf(a.ty) === null) ck.reason(args[i] ?? e, 'passing a function, table or layout as an argument');
    const entry = lsJoin(f.paramEntry[i], a.ls ?? [NO_LAYOUT]);
    if (!lsEq(entry, f.paramEntry[i] ?? new Set())) { f.paramEntry[i] = entry; ck.changed = true; }
    const arg = args[i];
    if (arg?.type === 'Identifier' && a.ty.m & VIEW) {
      st.layouts.set(ck.refVar.get(arg)!, new Set(f.paramExit[i] ?? entry));
    }
  });
}
