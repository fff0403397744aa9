// Errors a script can cause before it ever sees a packet. Shared by the
// compiler (syntax errors from luaparse) and the Lua engine (syntax errors
// from Lua's own parser, errors in the main chunk, a missing filter()).

export type ScriptErrorKind =
  /** the text is not valid Lua */
  | 'syntax'
  /** the main chunk raised an error, or left no global function `filter` */
  | 'load';

export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(
    readonly kind: ScriptErrorKind,
    /** the chunk name the script was loaded under (usually its file name) */
    readonly file: string,
    /** 1-based; undefined when the position is unknown */
    readonly line: number | undefined,
    /**
     * 1-based; undefined only when the line is. Lua reports lines only: on
     * the interpreter the column is derived from the line and the message
     * (runtime/engine/position.ts, docs/SEMANTICS.md)
     */
    readonly column: number | undefined,
    /** the message without the position prefix */
    readonly detail: string,
  ) {
    super(
      `${file}${line !== undefined ? `:${line}` : ''}${column !== undefined ? `:${column}` : ''}: ${detail}`,
    );
  }
}
