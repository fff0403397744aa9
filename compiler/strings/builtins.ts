// Which builtins are string operations, by name: check types the calls
// (strings/check.ts) and lower emits them (strings/lower.ts), so both passes
// read the one list here rather than each other.

/** The string library functions the subset compiles (also callable as methods, `s:len()`). */
export const STRING_METHODS = new Set(['len', 'sub', 'byte', 'upper', 'lower', 'rep', 'find', 'match', 'char']);

/** A string-valued or a string-consuming call: ann.builtin is 'string.NAME', 'tostring' or 'tonumber'. */
export function isStringBuiltin(name: string): boolean {
  return name === 'tostring' || name === 'tonumber' || (name.startsWith('string.') && STRING_METHODS.has(name.slice(7)));
}
