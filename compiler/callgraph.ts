// The call graph of a checked script: which functions may recurse. Only
// those pay fuel per call (docs/ABI.md); loops pay at their back edges, so a
// script without recursion needs no per-call fuel at all. Likewise only a
// script whose calls may nest deeper than MAX_CALL_DEPTH (abi.ts) counts its
// calls (docs/SEMANTICS.md, "Call depth").
import type * as L from 'luaparse';
import type { CheckResult, FnInfo } from './check-result.js';

/** Each function's callees (calls and pcalls of script functions in its own body). */
function callGraph(c: CheckResult): Map<FnInfo, Set<FnInfo>> {
  const calls = new Map<FnInfo, Set<FnInfo>>();
  for (const f of c.fns) {
    const out = new Set<FnInfo>();
    const walk = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) { n.forEach(walk); return; }
      const node = n as L.Node & Record<string, unknown>;
      if (node.type === 'FunctionDeclaration' && node !== f.node) return;
      const a = c.ann.get(node);
      if (a?.callee) out.add(a.callee);
      for (const g of a?.callees ?? []) out.add(g);
      for (const k in node) if (k !== 'loc' && k !== 'range') walk(node[k]);
    };
    walk(f.node.body);
    calls.set(f, out);
  }
  return calls;
}

/** Functions on a cycle of the call graph (they may recurse, so their calls cost fuel). */
export function recursiveFns(c: CheckResult): Set<FnInfo> {
  const calls = callGraph(c);
  const rec = new Set<FnInfo>();
  for (const f of c.fns) {
    const seen = new Set<FnInfo>();
    const stack = [...calls.get(f)!];
    while (stack.length) {
      const g = stack.pop()!;
      if (g === f) { rec.add(f); break; }
      if (seen.has(g)) continue;
      seen.add(g);
      stack.push(...calls.get(g)!);
    }
  }
  return rec;
}

/** Whether calls may nest more than `limit` deep: a cycle, or a longer chain of calls. */
export function nestsDeeper(c: CheckResult, limit: number): boolean {
  if (recursiveFns(c).size > 0) return true;
  const calls = callGraph(c);
  const longest = new Map<FnInfo, number>();
  // acyclic: the longest chain of calls starting at f
  const chain = (f: FnInfo): number => {
    let n = longest.get(f);
    if (n === undefined) {
      n = 0;
      for (const g of calls.get(f)!) n = Math.max(n, 1 + chain(g));
      longest.set(f, n);
    }
    return n;
  };
  return c.fns.some((f) => chain(f) > limit);
}
