// Lua's own test suite as a measure (issue 13, bench/lua-testes.ts): the
// self-contained asserts of a fetched Lua 5.4 testes/ checkout become
// filters; lua5.4 gives the expected verdict, and every case luapf compiles
// must agree with it. Runs over $LUA_TESTES, else /tmp/lua-testes, when it
// is there (nothing of Lua's is kept in this repository):
//   git --git-dir=MIRROR archive v5.4.6 testes | tar x -C /tmp/lua-testes
// A case that compiles but disagrees is a compiler bug: the test fails on
// any that test/filters/testes-known-wrong.json does not list.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { measureTestes, summary, testesDir } from '../bench/lua-testes.js';
import { REPO } from './support/paths.js';
import { hasLua54 } from './support/tools.js';

const DIR = process.env.LUA_TESTES ?? '/tmp/lua-testes';
const present = existsSync(join(testesDir(DIR), 'strings.lua'));
const hasLua = hasLua54;

interface KnownWrong { id: string; expr: string; why?: string }
const KNOWN: KnownWrong[] = JSON.parse(readFileSync(join(REPO, 'test', 'filters', 'testes-known-wrong.json'), 'utf8'));

it.skipIf(present && hasLua)(`Lua testes: skipped (${!present ? `no testes/ checkout at ${DIR}; set LUA_TESTES` : 'lua5.4 is not installed'})`, () => {});

it.skipIf(!present || !hasLua)(`Lua testes at ${DIR}: every compiled assert agrees with lua5.4`, async () => {
  const r = await measureTestes(DIR);
  console.log(summary(r, 10));
  expect(r.extracted).toBeGreaterThan(0);
  expect(r.extracted, 'lua5.4 accepts most extracted asserts on their own').toBeGreaterThan(r.candidates / 2);
  const known = (w: { id: string; expr: string }) => KNOWN.some((k) => k.id === w.id && k.expr === w.expr);
  const fixed = KNOWN.filter((k) => !r.wrong.some((w) => w.id === k.id && w.expr === k.expr));
  if (fixed.length > 0) console.log(`no longer wrong (drop from testes-known-wrong.json): ${fixed.map((k) => k.id).join(', ')}`);
  expect(r.wrong.filter((w) => !known(w)).map((w) => `${w.id}: ${w.verdict}${w.message ? ` (${w.message})` : ''}: ${w.expr}`)).toEqual([]);
}, 600_000);
