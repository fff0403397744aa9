// No value-import cycles under compiler/ and runtime/. ES modules tolerate a
// cycle only while every imported value is used inside a function: one
// top-level use and the module sees an uninitialized binding (a temporal
// dead zone error) that depends on which file was loaded first. Type-only
// imports vanish when compiled, so they may go both ways.
//
// Imports are read with the TypeScript parser (not a regex): `import type`,
// `export type` and lists whose every name is marked `type` are skipped, as
// are dynamic `import()` calls (they run later, when both modules are loaded).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// not test/paths.ts: this file only needs the root, and test helpers are being moved
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Module specifiers a file imports or re-exports values from (static imports only). */
export function valueImports(source: string): string[] {
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s)) {
      const c = s.importClause;
      // `import './x.js'` runs the module: a value edge
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) &&
        c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly && ts.isStringLiteral(s.moduleSpecifier)) out.push(s.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier)) {
      const c = s.exportClause;
      const typeOnly = s.isTypeOnly || (!!c && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) out.push(s.moduleSpecifier.text);
    }
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return tsFiles(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The value-import graph of the files under `root`: file → files it imports (paths relative to the repository). */
function importGraph(root: string): Map<string, string[]> {
  const files = tsFiles(join(REPO, root));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets = valueImports(readFileSync(f, 'utf8'))
      .filter((m) => m.startsWith('.'))
      .map((m) => resolve(dirname(f), m.replace(/\.js$/, '.ts')))
      .filter((p) => known.has(p));
    graph.set(relative(REPO, f), [...new Set(targets)].map((p) => relative(REPO, p)));
  }
  return graph;
}

/**
 * One cycle per strongly connected component of more than one file (or a
 * file importing itself), as `a → b → … → a` starting from its first file in
 * sorted order, following the shortest path back; when the component holds
 * more files than that cycle, all of them are listed after it.
 */
export function findCycles(graph: Map<string, string[]>): string[] {
  // Tarjan's algorithm
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>();
  const sccs: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
    sccs.push(scc);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  const cycles: string[] = [];
  for (const scc of sccs) {
    const start = [...scc].sort()[0]!;
    const inScc = new Set(scc);
    if (scc.length === 1 && !(graph.get(start) ?? []).includes(start)) continue;
    // breadth-first from start, inside the component, back to start
    const prev = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    while (queue.length && last === undefined) {
      const v = queue.shift()!;
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (w === start) { last = v; break; }
        if (inScc.has(w) && !prev.has(w)) { prev.set(w, v); queue.push(w); }
      }
    }
    const path = [start];
    for (let v = last!; v !== start; v = prev.get(v)!) path.splice(1, 0, v);
    const more = scc.length > path.length ? ` (${scc.length} files in this component: ${[...scc].sort().join(', ')})` : '';
    cycles.push([...path, start].join(' → ') + more);
  }
  return cycles.sort();
}

describe('import cycles', () => {
  it('the finder reports one cycle per component and reads only value imports', () => {
    const g = new Map([['a', ['b']], ['b', ['c', 'd']], ['c', ['a']], ['d', []], ['e', ['e']], ['f', ['a']]]);
    expect(findCycles(g)).toEqual(['a → b → c → a', 'e → e']);
    expect(findCycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
    expect(findCycles(new Map([['a', ['b']], ['b', ['a', 'c']], ['c', ['b']]])))
      .toEqual(['a → b → a (3 files in this component: a, b, c)']);
    const src = [
      "import { a, type B } from './value.js';",
      "import type { C } from './type-only.js';",
      "import { type D, type E } from './inline-types.js';",
      "import * as ns from './namespace.js';",
      "import './side-effect.js';",
      "export { f } from './re-export.js';",
      "export type { G } from './type-re-export.js';",
      "export * from './star.js';",
      "const lazy = () => import('./dynamic.js');",
    ].join('\n');
    expect(valueImports(src)).toEqual(['./value.js', './namespace.js', './side-effect.js', './re-export.js', './star.js']);
  });

  it('compiler/ has none', () => {
    expect(findCycles(importGraph('compiler'))).toEqual([]);
  });

  it('runtime/ has none', () => {
    expect(findCycles(importGraph('runtime'))).toEqual([]);
  });
});
