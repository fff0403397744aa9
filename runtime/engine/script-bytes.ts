// Script text and its bytes. Lua sees a script as bytes; the compiler and
// the engines take it as a string of one char per byte (latin1), so any byte
// sequence, UTF-8 included, goes through unchanged. Text given as a string
// becomes bytes here, once for every entry point.

/** Bytes of script text: latin1 (one char per byte) when every char fits a byte, else UTF-8. */
export function scriptBytes(text: string): Uint8Array {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return new TextEncoder().encode(text);
  }
  return Buffer.from(text, 'latin1');
}

/** The one-char-per-byte string of script bytes, as the compiler and the engines read it. */
export function scriptText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
