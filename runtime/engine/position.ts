// Columns for Lua's own messages. Lua 5.4 reports "chunk:LINE: message"
// and never a column, while luapf promises FILE:LINE:COL (the compiled
// engine knows the column of every error site). For the interpreter the
// column is found on the reported line, from what the message names:
//   - a variable, field or method ("(local 't')", "(field 'x')", "bad
//     argument #1 to 'sub'"): where that name is used on the line;
//   - an error raised by error() or assert(): where that call is;
//   - otherwise the first call on the line, else the line's first
//     non-blank character (the statement's start).
// Syntax errors: the token Lua names ("near 'end'"), or the line's end for
// "near <eof>". Strings and comments are blanked first so a name inside a
// string literal is never taken for a use (docs/SEMANTICS.md).

/** The source with comment and string-literal contents replaced by spaces (same length, same line breaks). */
export function maskLua(src: string): string {
  const out = src.split('');
  const n = src.length;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to && k < n; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  // '[' '='* '[' at `at`: the level, or -1 when it is not a long bracket
  const level = (at: number): number => {
    let j = at + 1;
    while (src[j] === '=') j++;
    return src[j] === '[' ? j - at - 1 : -1;
  };
  const closeLong = (from: number, lvl: number): number => {
    const close = `]${'='.repeat(lvl)}]`;
    const e = src.indexOf(close, from);
    return e < 0 ? n : e + close.length;
  };
  let i = 0;
  if (src.startsWith('#')) { // a first line starting with '#' is skipped by Lua
    i = src.indexOf('\n');
    if (i < 0) i = n;
    blank(0, i);
  }
  while (i < n) {
    const c = src[i];
    if (c === '-' && src[i + 1] === '-') {
      const lvl = src[i + 2] === '[' ? level(i + 2) : -1;
      let end = lvl >= 0 ? closeLong(i + 4 + lvl, lvl) : src.indexOf('\n', i);
      if (end < 0) end = n;
      blank(i, end);
      i = end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else if (c === '[' && level(i) >= 0) {
      const lvl = level(i);
      const start = i + 2 + lvl;
      const end = closeLong(start, lvl);
      blank(start, end - 2 - lvl);
      i = end;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** Line `line` (1-based) of `text`, without its line break; undefined past the end. */
export function lineOf(text: string, line: number): string | undefined {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return undefined;
    at = nl + 1;
  }
  const nl = text.indexOf('\n', at);
  return text.slice(at, nl < 0 ? text.length : nl).replace(/\r$/, '');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function firstNonBlank(line: string): number {
  const m = /\S/.exec(line);
  return m ? m.index + 1 : 1;
}

/**
 * Column (1-based) on `line` of `name` used as a field/method (after '.' or
 * ':') or as a plain name. A use that reads the name is preferred over one
 * that declares or assigns it (`local x =`, `x =`, `function x`), since an
 * error about a value comes from reading it.
 */
function nameColumn(line: string, name: string, member: boolean): number | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return undefined;
  const re = member
    ? new RegExp(`[.:]\\s*(${escape(name)})(?![A-Za-z0-9_])`, 'g')
    : new RegExp(`(?<![A-Za-z0-9_.:])(${escape(name)})(?![A-Za-z0-9_])`, 'g');
  let first: number | undefined;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const at = m.index + m[0].length - name.length;
    const before = line.slice(0, at);
    const after = line.slice(at + name.length);
    const defines = /(?:\blocal|\bfunction|\bfor)\s+(?:[A-Za-z0-9_]+\s*,\s*)*$/.test(before) || /^\s*=(?!=)/.test(after);
    if (!defines) return at + 1;
    first ??= at + 1;
  }
  return first;
}

const KEYWORD = /^(and|do|else|elseif|end|for|function|if|in|local|not|or|repeat|return|then|until|while)\b/;

/** The column of a runtime error Lua reported on `line` (1-based) of the masked source. */
export function runtimeColumn(masked: string, line: number, detail: string): number {
  const text = lineOf(masked, line);
  if (text === undefined) return 1;
  const named = /\((local|global|upvalue|constant|field|method) '([^']*)'\)/.exec(detail);
  if (named) {
    const member = named[1] === 'field' || named[1] === 'method';
    const col = nameColumn(text, named[2], member) ?? (member ? undefined : nameColumn(text, named[2], true));
    if (col !== undefined) return col;
  }
  const argOf = /^bad argument #\d+ to '([^']*)'/.exec(detail);
  if (argOf) {
    const col = nameColumn(text, argOf[1], true) ?? nameColumn(text, argOf[1], false);
    if (col !== undefined) return col;
  }
  const raised = /(?<![A-Za-z0-9_.:])(error|assert)\s*[('"{[]/.exec(text);
  if (raised) return raised.index + 1;
  const calls = /(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*(?:\s*[.:]\s*[A-Za-z_][A-Za-z0-9_]*)*\s*[('"{]/g;
  for (let m = calls.exec(text); m; m = calls.exec(text)) {
    // a keyword before '(' is no call, nor is the name in `function name(`
    if (!KEYWORD.test(m[0]) && !/\bfunction\s*$/.test(text.slice(0, m.index))) return m.index + 1;
  }
  return firstNonBlank(text);
}

/** The column of a syntax error Lua reported on `line`: the token it names, or the line's end at <eof>. */
export function syntaxColumn(source: string, masked: string, line: number, detail: string): number {
  const raw = lineOf(source, line);
  const text = lineOf(masked, line);
  if (raw === undefined || text === undefined) return 1;
  if (/near <eof>$/.test(detail)) return raw.replace(/\s+$/, '').length + 1;
  const near = /near '(.*)'$/.exec(detail);
  if (near) {
    // a token outside strings first; a string token can only be found in the raw line
    const at = text.indexOf(near[1]);
    if (at >= 0) return at + 1;
    const rawAt = raw.indexOf(near[1]);
    if (rawAt >= 0) return rawAt + 1;
  }
  return firstNonBlank(text);
}

/**
 * Turns the interpreter's messages ("CHUNKID:LINE: detail", or "CHUNKID:
 * detail") into "NAME:LINE:COL: detail" with the full chunk name (Lua cuts
 * it to 59 bytes). Per-packet errors repeat: results are cached.
 */
export class LuaMessages {
  private masked: string | undefined;
  private readonly cache = new Map<string, string>();

  constructor(private readonly source: string, private readonly chunkId: string, readonly chunkName: string) {}

  /** Splits a message into its position and detail; the column is computed for runtime errors. */
  split(msg: string, kind: 'runtime' | 'syntax' = 'runtime'): { line?: number; column?: number; detail: string } {
    if (!msg.startsWith(this.chunkId)) return { detail: msg };
    const rest = msg.slice(this.chunkId.length);
    const m = /^:(\d+): ?([\s\S]*)$/.exec(rest);
    if (m) {
      const line = Number(m[1]);
      const detail = m[2];
      this.masked ??= maskLua(this.source);
      const column = kind === 'syntax'
        ? syntaxColumn(this.source, this.masked, line, detail)
        : runtimeColumn(this.masked, line, detail);
      return { line, column, detail };
    }
    if (rest.startsWith(': ')) return { detail: rest.slice(2) };
    return { detail: msg };
  }

  /** A per-packet error message with the full name and a column. */
  format(msg: string): string {
    let out = this.cache.get(msg);
    if (out !== undefined) return out;
    const { line, column, detail } = this.split(msg);
    out = line !== undefined ? `${this.chunkName}:${line}:${column}: ${detail}`
      : msg.startsWith(`${this.chunkId}: `) ? `${this.chunkName}: ${detail}` : msg;
    // messages built from packet data can all differ: keep the cache small
    if (this.cache.size >= 256) this.cache.clear();
    this.cache.set(msg, out);
    return out;
  }
}
