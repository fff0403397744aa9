// Pass 2a: name resolution for check.ts — binds every identifier to a
// variable (local, parameter or Lua global), creates a FnInfo per function
// and records constructs that are outside the compiled subset wherever they
// appear (reported once inference is final).
import type * as L from 'luaparse';
import type { FnInfo, Var } from './check-result.js';
import type { Checker } from './check.js';
import { constTy } from './types.js';
import { resolveLabels } from './labels.js';

export function resolveNames(ck: Checker): void {
  const scopes: Map<string, Var>[] = [new Map()];
  const lookup = (name: string): Var | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) { const v = scopes[i]!.get(name); if (v) return v; }
    return undefined;
  };
  const declare = (id: L.Identifier, fn: FnInfo, kind: Var['kind']) => {
    const v = ck.newVar(id, fn, kind);
    scopes[scopes.length - 1]!.set(id.name, v);
    ck.declVar.set(id, v);
    return v;
  };
  const ref = (id: L.Identifier, fn: FnInfo) => {
    let v = lookup(id.name);
    if (!v) {
      v = ck.globals.get(id.name);
      if (!v) { v = ck.newVar(id, null, 'global'); ck.globals.set(id.name, v); }
    }
    ck.refVar.set(id, v);
    if (v.fn && v.fn !== fn && v.fn !== ck.main) (v as Var & { captured?: boolean }).captured = true;
    return v;
  };
  const block = (body: L.Statement[], fn: FnInfo, pre?: () => void) => {
    scopes.push(new Map());
    pre?.();
    for (const s of body) stmt(s, fn);
    scopes.pop();
  };
  const func = (node: L.FunctionDeclaration, name: string, parent: FnInfo) => {
    const f = ck.newFn(name, node, parent);
    resolveLabels(node.body, ck.labels);
    block(node.body, f, () => {
      for (const p of node.parameters) {
        if (p.type === 'VarargLiteral') { ck.reason(p, 'varargs'); ck.deferred.push([p, 'varargs']); continue; }
        f.params.push(declare(p, f, 'param'));
      }
    });
    return f;
  };
  const expr = (e: L.Expression | null | undefined, fn: FnInfo): void => {
    if (!e) return;
    switch (e.type) {
      case 'Identifier': ref(e, fn); return;
      case 'FunctionDeclaration': {
        const f = func(e, 'anonymous function', fn);
        ck.ann.set(e, { ty: constTy({ k: 'func', id: f.id }) });
        return;
      }
      case 'BinaryExpression': case 'LogicalExpression': expr(e.left, fn); expr(e.right, fn); return;
      case 'UnaryExpression': expr(e.argument, fn); return;
      case 'MemberExpression': expr(e.base, fn); return;
      case 'IndexExpression': expr(e.base, fn); expr(e.index, fn); return;
      case 'CallExpression': expr(e.base, fn); e.arguments.forEach((a) => expr(a, fn)); return;
      case 'TableCallExpression': expr(e.base, fn); expr(e.arguments, fn); return;
      case 'StringCallExpression': expr(e.base, fn); return;
      case 'TableConstructorExpression':
        for (const f of e.fields) { if (f.type === 'TableKey') expr(f.key, fn); expr(f.value, fn); }
        return;
      default: return;
    }
  };
  const stmt = (s: L.Statement, fn: FnInfo): void => {
    switch (s.type) {
      case 'LocalStatement':
        s.init.forEach((e) => expr(e, fn));
        for (const v of s.variables) {
          declare(v, fn, 'local');
          if (ck.p.attributes.get(v)?.name === 'close') ck.deferred.push([v, "'<close>' variable"]);
        }
        return;
      case 'AssignmentStatement':
        s.init.forEach((e) => expr(e, fn));
        s.variables.forEach((v) => expr(v, fn));
        for (const v of s.variables) if (v.type === 'Identifier') {
          const vr = ck.refVar.get(v)!;
          vr.reassigned = true;
          const dn = ck.declNodeOf(vr);
          if (dn && ck.p.attributes.get(dn)?.name === 'const')
            ck.deferred.push([v, `attempt to assign to const variable '${v.name}'`]);
        }
        return;
      case 'CallStatement': expr(s.expression, fn); return;
      case 'FunctionDeclaration': {
        const id = s.identifier;
        if (s.isLocal && id?.type === 'Identifier') {
          const v = declare(id, fn, 'local');
          const f = func(s, id.name, fn);
          v.ty = constTy({ k: 'func', id: f.id });
        } else if (id?.type === 'Identifier') {
          const v = ref(id, fn);
          const f = func(s, id.name, fn);
          if (v.fn !== null) { v.reassigned = true; ck.deferred.push([s, `function assigned to local '${id.name}'`]); }
          else if (v.ty.c?.k === 'func') ck.deferred.push([s, `global function '${id.name}' redefined`]);
          else if (fn !== ck.main) ck.deferred.push([s, `global function '${id.name}' defined inside a function`]);
          v.ty = constTy({ k: 'func', id: f.id });
        } else {
          ck.deferred.push([s, 'method or field function definition']);
          func(s, 'method', fn);
        }
        return;
      }
      case 'ReturnStatement': s.arguments.forEach((e) => expr(e, fn)); return;
      case 'IfStatement':
        for (const c of s.clauses) { if (c.type !== 'ElseClause') expr(c.condition, fn); block(c.body, fn); }
        return;
      case 'WhileStatement': expr(s.condition, fn); block(s.body, fn); return;
      case 'RepeatStatement':
        scopes.push(new Map());
        for (const x of s.body) stmt(x, fn);
        expr(s.condition, fn);
        scopes.pop();
        return;
      case 'DoStatement': block(s.body, fn); return;
      case 'ForNumericStatement':
        expr(s.start, fn); expr(s.end, fn); expr(s.step, fn);
        block(s.body, fn, () => declare(s.variable, fn, 'local'));
        return;
      case 'ForGenericStatement':
        s.iterators.forEach((e) => expr(e, fn));
        block(s.body, fn, () => s.variables.forEach((v) => declare(v, fn, 'local')));
        return;
      case 'GotoStatement': case 'LabelStatement': return;
      case 'BreakStatement': return;
    }
  };
  resolveLabels(ck.p.ast.body, ck.labels);
  block(ck.p.ast.body, ck.main);
  for (const e of ck.labels.errors) ck.deferred.push([e.node, e.message]);
}

export function declNodeOf(ck: Checker, v: Var): L.Node | undefined {
  for (const [n, x] of ck.declVar) if (x === v) return n;
  return undefined;
}

