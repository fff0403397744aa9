// goto and labels, resolved once per function for check and lower: which
// label each goto reaches (Lua 5.4: the nearest visible one, in the goto's
// block or an enclosing block of the same function), whether it jumps
// forward or backward, and Lua's compile-time errors for bad jumps.
import type * as L from 'luaparse';

export interface LabelInfo {
  node: L.LabelStatement;
  name: string;
  /** the block holding the label */
  block: L.Statement[];
  /** the label's index in `block` */
  index: number;
  /** some goto jumps here from before the label */
  forward: boolean;
  /** some goto jumps here from the label or after it */
  backward: boolean;
}

export interface GotoTarget { label: LabelInfo; backward: boolean }

export interface LabelMap {
  labels: Map<L.Node, LabelInfo>;
  gotos: Map<L.Node, GotoTarget>;
  errors: { node: L.Node; message: string }[];
}

/** Blocks directly nested in a statement (not crossing into nested functions). */
function childBlocks(s: L.Statement): L.Statement[][] {
  switch (s.type) {
    case 'IfStatement': return s.clauses.map((c) => c.body);
    case 'WhileStatement': case 'RepeatStatement': case 'DoStatement':
    case 'ForNumericStatement': case 'ForGenericStatement': return [s.body];
    default: return [];
  }
}

export function resolveLabels(body: L.Statement[], map: LabelMap = { labels: new Map(), gotos: new Map(), errors: [] }): LabelMap {
  const scopes: { block: L.Statement[]; labels: Map<string, LabelInfo>; at: number }[] = [];
  const forward: [number, LabelInfo, L.Node][] = [];
  const walk = (block: L.Statement[]) => {
    const labels = new Map<string, LabelInfo>();
    block.forEach((s, index) => {
      if (s.type !== 'LabelStatement') return;
      const name = s.label.name;
      const shadowed = labels.get(name) ?? scopes.map((x) => x.labels.get(name)).find((x) => x);
      if (shadowed) map.errors.push({ node: s, message: `label '${name}' already defined` });
      const info: LabelInfo = { node: s, name, block, index, forward: false, backward: false };
      labels.set(name, info);
      map.labels.set(s, info);
    });
    const scope = { block, labels, at: 0 };
    scopes.push(scope);
    block.forEach((s, i) => {
      scope.at = i;
      if (s.type === 'GotoStatement') {
        const name = s.label.name;
        let target: LabelInfo | undefined, from = -1;
        for (let k = scopes.length - 1; k >= 0 && !target; k--) {
          target = scopes[k]!.labels.get(name);
          from = scopes[k]!.at;
        }
        if (!target) { map.errors.push({ node: s, message: `no visible label '${name}' for goto` }); return; }
        const backward = from >= target.index;
        if (backward) target.backward = true;
        else {
          target.forward = true;
          forward.push([from, target, s]);
          const local = jumpsIntoLocal(target, from);
          if (local) map.errors.push({ node: s, message: `jumps into the scope of local '${local}'` });
        }
        map.gotos.set(s, { label: target, backward });
        return;
      }
      for (const b of childBlocks(s)) walk(b);
    });
    scopes.pop();
  };
  walk(body);
  // Wasm blocks nest: a forward jump cannot enter the loop that a backward jump's label opens
  for (const [from, target, node] of forward) {
    for (const x of map.labels.values())
      if (x.block === target.block && x.backward && x.index > from && x.index < target.index)
        map.errors.push({ node, message: `goto '${target.name}' across label '${x.name}' of a backward goto` });
  }
  return map;
}

/** Lua 5.4: a forward goto may not enter a local's scope, unless the label ends its block. */
function jumpsIntoLocal(target: LabelInfo, from: number): string | undefined {
  if (target.block.slice(target.index + 1).every((s) => s.type === 'LabelStatement')) return undefined;
  for (let i = from + 1; i < target.index; i++) {
    const s = target.block[i]!;
    if (s.type === 'LocalStatement') return s.variables[0]?.name;
    if (s.type === 'FunctionDeclaration' && s.isLocal && s.identifier?.type === 'Identifier') return s.identifier.name;
  }
  return undefined;
}

