import { describe, expect, test } from 'vitest';
import { checkScript, compile, parse } from '../compiler/index.js';
import { parseLuaNumber } from '../compiler/parse.js';

describe('parse', () => {
  test('integer and float literals follow Lua 5.4', () => {
    expect(parseLuaNumber('0x7fffffffffffffff')).toEqual({ kind: 'int', value: 9223372036854775807n });
    expect(parseLuaNumber('0xffffffffffffffff')).toEqual({ kind: 'int', value: -1n });
    expect(parseLuaNumber('0x10000000000000000')).toEqual({ kind: 'int', value: 0n });
    expect(parseLuaNumber('9223372036854775807')).toEqual({ kind: 'int', value: 9223372036854775807n });
    expect(parseLuaNumber('9223372036854775808')).toEqual({ kind: 'float', value: 9223372036854775808 });
    expect(parseLuaNumber('1e2')).toEqual({ kind: 'float', value: 100 });
    expect(parseLuaNumber('3.')).toEqual({ kind: 'float', value: 3 });
    expect(parseLuaNumber('0x1p4')).toEqual({ kind: 'float', value: 16 });
    expect(parseLuaNumber('0x.8')).toEqual({ kind: 'float', value: 0.5 });
  });

  test('Lua 5.4 attributes are accepted and positions stay exact', () => {
    const src = 'local x <const>, y <close> = 1, nil\nlocal z<const> = "<const>"\nreturn x +';
    const r = parse(src, 'a.lua');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toMatchObject({ file: 'a.lua', line: 3 });
    const ok = parse('local x <const> = 1\nlocal s = "<const>"\n', 'b.lua');
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect([...ok.attributes.values()].map((a) => [a.name, a.line, a.column])).toEqual([['const', 1, 9]]);
    const decl = ok.ast.body[0]!;
    expect(decl.loc!.start).toEqual({ line: 1, column: 0 });
  });

  test('strings are byte strings', () => {
    const r = parse('local s = "\\xff\\0\\u{e9}"', 's.lua');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([...r.strings.values()][0]).toBe('\xff\x00\xc3\xa9');
  });

  test('syntax errors are data with file:line:col', async () => {
    const r = await compile('function filter(pkt)\n  return pkt +\nend', { file: 'bad.lua' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.stage).toBe('parse');
    expect(r.errors[0]).toMatchObject({ file: 'bad.lua', line: 3 });
    expect(r.reasons[0]).toMatch(/^bad\.lua:3:\d+: /);
  });
});

describe('check', () => {
  const reasons = (src: string) => checkScript(src, { file: 't.lua' }).reasons;

  test('the bench-style script compiles', () => {
    expect(checkScript(`local data = require'data'
      local L = data.layout{ v = {0, 4} }
      function filter(pkt) return pkt:layout(L).v == 4 end`, { file: 't.lua' })).toMatchObject({ engine: 'wasm', reasons: [] });
  });

  test('every reason is listed with line:col', () => {
    const r = reasons(`local function mk()
  local n = 0
  return function() n = n + 1 return n end
end
function foo() end
function foo() end
function filter(pkt)
  local s = string.format('%d', #pkt)
  local t = {}
  t[1] = pkt
  return s .. 'x'
end`);
    expect(r).toContain("2:9: closure capturing a mutable upvalue 'n'");
    expect(r).toContain("6:1: global function 'foo' redefined");
    expect(r).toContain('8:13: string.format is not compiled yet');
    expect(r).toContain('10:10: table value that may be a data view, layout, library or constant table');
    // s is string.format's result: what is done with it follows from the first reason
    expect(r.join('\n')).not.toMatch(/^11:/m);
  });

  test('a library function not compiled is the first cause; its knock-on effects are not listed', () => {
    expect(reasons(`local s = 'x'
function filter(pkt)
  local a = string.format('%d', #pkt)
  local b = a .. 'x'
  local c = a:upper()
  if #a > 3 and a:find('1') then return a + 1 end
  local n = select('#', 1, 2)
  local m = math.floor(n) + string.foo(1)
  return os.time() > 0 and s:gsub('x', 'y') and pkt:frobnicate() and undefined_fn(b, c, m)
end`)).toEqual([
      '3:13: string.format is not compiled yet',
      '7:13: select is not compiled yet',
      '8:13: math.floor is not compiled yet',
      "8:29: call to 'string.foo', which Lua 5.4's libraries do not have (it is nil)",
      "9:10: 'os' is not available to filters (the sandbox has no os)",
      '9:28: string.gsub is not compiled yet',
      "9:49: data views have no method 'frobnicate' (they have layout and segment)",
      "9:70: call to 'undefined_fn', a global that is never assigned (nil)",
    ]);
  });

  test('missing filter and string methods', () => {
    expect(reasons('local x = 1')).toEqual(["1:1: the script does not define a global function 'filter'"]);
    expect(reasons('function filter(pkt) return tostring(pkt):gsub("x", "y") end')[0]).toMatch(/^1:29: /);
  });

  test('inference that does not settle is a reason, not types too narrow (a1 would stay an integer)', () => {
    // a float flows back one assignment per inference round
    const chain = (n: number) => {
      const names = Array.from({ length: n }, (_, i) => `a${i + 1}`);
      return `function filter(pkt)
  local ${names.join(', ')} = ${names.map(() => '0').join(', ')}
  for k = 1, ${n + 10} do
${names.slice(0, -1).map((a, i) => `    ${a} = ${names[i + 1]}`).join('\n')}
    a${n} = 1.5
  end
  return math.type(a1) == 'float'
end`;
    };
    const r = checkScript(chain(40), { file: 't.lua' });
    expect(r.engine).toBe('lua');
    expect(r.reasons).toEqual([expect.stringMatching(/^\d+:\d+: types still changing after \d+ rounds of inference/)]);
    expect(checkScript(chain(10), { file: 't.lua' }).engine).toBe('wasm');
  });

  test('layouts are resolved statically per view', async () => {
    const r = await compile(`local data = require'data'
      local A = data.layout{ f = {0, 8} }
      local B = data.layout{ f = {8, 8} }
      function filter(pkt)
        if #pkt > 3 then pkt:layout(A) else pkt:layout(B) end
        return pkt.f
      end`, { file: 't.lua', stopAfter: 'check' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reasons[0]).toMatch(/^6:16: layout of the view is not known here/);
  });

  test('--dump stages', async () => {
    const src = `local data = require'data'\nlocal L = data.layout{ v = {0, 4} }\nfunction filter(pkt) return pkt:layout(L).v == 4 end`;
    const c = await compile(src, { file: 't.lua', stopAfter: 'check' });
    expect(c.ok && c.dump).toContain('layout #0');
    const ir = await compile(src, { file: 't.lua', stopAfter: 'ir' });
    expect(ir.ok && ir.dump).toMatch(/load8/);
  });
});
