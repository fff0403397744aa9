// Differential fuzzing of compiled Lua patterns against Lua 5.4 (Wasmoon).
// Patterns are sampled up front (grammar-generated valid ones, plus random
// byte strings whose errors must agree), compiled into one module per mode,
// then fast-check draws (pattern, subject, init) triples over a small
// alphabet that includes bytes 0 and 255.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { bytes, compilePatterns, createLuaOracle, hex, type CompiledSet, type LuaOracle } from './support/patterns-harness.js';

const SEED = 20240611;
const SUBJECT_BYTES = [0x61, 0x62, 0x63, 0x28, 0x29, 0x2d, 0x20, 0x31, 0x00, 0xff];

const literal = fc.constantFrom('a', 'b', 'c', '%(', '%)', '%-', ' ', '1', '\0', '\xff', '%%', '%.');
const klass = fc.constantFrom('%a', '%d', '%s', '%w', '%p', '%c', '%z', '%A', '%S', '%W', '%P', '%l', '%x', '%g', '%G', '.');
const setElem = fc.oneof(
  fc.constantFrom('a', 'b', '(', ')', '-', '\0', '\xff', '%]', '%a', '%d', '%s', '%W', ']', '^'),
  fc.constantFrom('a-c', '\0-a', 'b-\xff', ')-b', 'c-a'),
);
const set = fc
  .tuple(fc.boolean(), fc.array(setElem, { minLength: 1, maxLength: 3 }))
  .map(([neg, els]) => `[${neg ? '^' : ''}${els.join('')}]`);
const single = fc.oneof({ weight: 3, arbitrary: literal }, { weight: 2, arbitrary: klass }, { weight: 2, arbitrary: set });
const quant = fc.constantFrom('', '', '', '*', '+', '-', '?');
const item = fc.tuple(single, quant).map(([a, q]) => a + q);
const special = fc.constantFrom('%b()', '%bab', '%b\0\xff', '%f[%w]', '%f[a]', '%f[^a]', '%f[%z]', '()', '%1', '%2');

const { seq } = fc.letrec<{ seq: string; elem: string }>((tie) => ({
  seq: fc.array(tie('elem'), { maxLength: 5 }).map((xs) => xs.join('')),
  elem: fc.oneof(
    { weight: 6, arbitrary: item },
    { weight: 2, arbitrary: special },
    { weight: 2, arbitrary: tie('seq').map((s) => `(${s})`) },
  ),
}));

/** Valid-looking patterns (backreferences may still be invalid: Lua decides lazily). */
const grammarPattern = fc
  .tuple(fc.boolean(), seq, fc.boolean())
  .map(([anchor, body, dollar]) => (anchor ? '^' : '') + body + (dollar ? '$' : ''));

/** Arbitrary short strings over the pattern metacharacters: mostly malformed. */
const junkPattern = fc
  .array(fc.constantFrom(...'%[]()^$*+-?.abf1\0'.split('')), { maxLength: 8 })
  .map((cs) => cs.join(''));

const subjectArb = fc.array(fc.constantFrom(...SUBJECT_BYTES), { maxLength: 14 }).map((b) => Uint8Array.from(b));

const N_GRAMMAR = 400;
const N_JUNK = 200;

describe('fuzz: compiled patterns vs Lua 5.4', () => {
  let lua: LuaOracle;
  let patterns: Uint8Array[];
  let findSet: CompiledSet;
  let matchSet: CompiledSet;

  beforeAll(async () => {
    lua = await createLuaOracle();
    const texts = [
      ...fc.sample(grammarPattern, { numRuns: N_GRAMMAR, seed: SEED }),
      ...fc.sample(junkPattern, { numRuns: N_JUNK, seed: SEED + 1 }),
    ];
    patterns = texts.map(bytes);
    findSet = compilePatterns(patterns, { mode: 'find' });
    matchSet = compilePatterns(patterns, { mode: 'match', optimize: true });
  });
  afterAll(() => lua.close());

  const property = (set: () => CompiledSet) =>
    fc.property(fc.nat(N_GRAMMAR + N_JUNK - 1), subjectArb, fc.nat(16), (i, subject, rawInit) => {
      const init = rawInit % (subject.length + 2);
      const s = set();
      const want = lua.run(s.mode, patterns[i], subject, init);
      const got = s.find(i, subject, init);
      if (got !== want) {
        throw new Error(
          `${s.mode}(subject=${hex(subject)}, pattern=${JSON.stringify(Buffer.from(patterns[i]).toString('latin1'))}, init=${init + 1}): lua ${want}, wasm ${got}`,
        );
      }
    });

  test('string.find semantics (unoptimized build)', () => {
    fc.assert(property(() => findSet), { numRuns: 1500, seed: SEED });
  });

  test('string.match semantics (optimized build)', () => {
    fc.assert(property(() => matchSet), { numRuns: 1500, seed: SEED + 2 });
  });

  test('the sample exercises matches, failures and errors', () => {
    // guards against a generator that silently stopped producing interesting cases
    const kinds = new Set<string>();
    const subject = bytes('ab(c)-1 a\0\xffb');
    for (let i = 0; i < patterns.length; i++) {
      const r = lua.run('find', patterns[i], subject, 0);
      kinds.add(r === 'N' ? 'none' : r.startsWith('E:') ? 'error' : 'match');
    }
    expect([...kinds].sort()).toEqual(['error', 'match', 'none']);
  });
});
