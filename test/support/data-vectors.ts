// The data-library test vectors of DESIGN.md §3 plus a few more that pin
// decisions the table leaves open. Engine-agnostic: each vector is a packet
// (hex bytes), a layout entry in Lua syntax and the expected value; any
// engine can run `vectorScript(v)` over a packet of `v.hex` and must ACCEPT.

export interface DataVector {
  /** packet bytes, hex, no separators */
  hex: string;
  /** the layout entry as a Lua table constructor, e.g. "{0,4}" */
  field: string;
  /** expected value: a number/bigint (integer), a byte string (latin1), or null for nil */
  expected: number | bigint | string | null;
  note?: string;
}

export const DATA_VECTORS: DataVector[] = [
  // DESIGN.md §3, verbatim
  { hex: 'FFAB', field: '{0,4}', expected: 0xf },
  { hex: 'FFAB', field: '{4,4}', expected: 0xf },
  { hex: 'FFAB', field: '{4,8}', expected: 0xfa },
  { hex: 'FFAB', field: '{3,7}', expected: 0x7e },
  { hex: 'FFAB', field: '{9,7}', expected: 0x2b },
  { hex: 'FFAB', field: '{15,1}', expected: 1 },
  { hex: 'FFAB', field: '{0,16}', expected: 0xffab },
  { hex: 'FFAB', field: "{0,16,'number','little'}", expected: 0xabff },
  { hex: 'FFAB', field: '{16,1}', expected: null },
  { hex: 'FFAB', field: '{8,9}', expected: null },
  { hex: 'AABBCCDD', field: '{20,9}', expected: 0x19b },
  { hex: 'AABBCCDD', field: '{32,1}', expected: null },
  // widths 0 and > 64, negative offsets
  { hex: 'FFAB', field: '{0,0}', expected: null, note: 'width 0' },
  { hex: '00112233445566778899', field: '{0,65}', expected: null, note: 'width > 64' },
  { hex: 'FFAB', field: '{-1,4}', expected: null, note: 'negative offset' },
  // 64-bit: the bit pattern as a signed integer, aligned and straddling 9 bytes
  { hex: 'FFFFFFFFFFFFFFFE', field: '{0,64}', expected: -2n },
  { hex: '0123456789ABCDEF', field: '{0,64}', expected: 0x0123456789abcdefn },
  { hex: '0123456789ABCDEF', field: "{0,64,'n','l'}", expected: -0x1032547698badcffn, note: 'EFCDAB8967452301' },
  { hex: '0123456789ABCDEF80', field: '{1,64}', expected: 0x02468acf13579bdfn, note: '9 bytes' },
  { hex: 'FF23456789ABCDEF80', field: '{4,64}', expected: -0x0dcba98765432108n, note: 'F23456789ABCDEF8' },
  { hex: '0123456789ABCDEF', field: '{4,60}', expected: 0x123456789abcdefn },
  { hex: '0123456789ABCDEF', field: '{1,64}', expected: null, note: 'one bit past the end' },
  // little endian: only for widths > 8; non-multiples of 8 reverse 8-bit groups (luadata binary.c)
  { hex: 'ABCD', field: "{0,8,'n','l'}", expected: 0xab, note: 'width 8: no swap' },
  { hex: 'ABCD', field: "{4,8,'n','little'}", expected: 0xbc },
  { hex: 'ABCD', field: "{0,12,'n','l'}", expected: 0xcab, note: 'groups AB,C -> C,AB' },
  { hex: 'ABCDEF', field: "{0,20,'n','l'}", expected: 0xecdab, note: 'groups AB,CD,E -> E,CD,AB' },
  { hex: '12345678', field: "{0,32,'n','l'}", expected: 0x78563412 },
  { hex: '12345678', field: "{8,24,'n','host'}", expected: 0x785634 },
  { hex: '12345678', field: "{0,32,'n','network'}", expected: 0x12345678 },
  { hex: '12345678', field: "{0,32,'n','big'}", expected: 0x12345678 },
  // named keys, and named keys winning over positional ones
  { hex: '12345678', field: '{offset=8, length=8}', expected: 0x34 },
  { hex: '12345678', field: '{0, 8, offset=16}', expected: 0x56 },
  { hex: '12345678', field: "{0, 16, endian='little'}", expected: 0x3412 },
  { hex: '12345678', field: "{0, 16, 'number', 'big', endian='l'}", expected: 0x3412 },
  // string fields: byte offset and length
  { hex: '48656C6C6F00FF', field: "{0,5,'string'}", expected: 'Hello' },
  { hex: '48656C6C6F00FF', field: "{4,3,'s'}", expected: 'o\u0000\u00ff', note: 'binary-safe' },
  { hex: '48656C6C6F00FF', field: "{7,0,'s'}", expected: '' },
  { hex: '48656C6C6F00FF', field: "{5,3,'s'}", expected: null },
  { hex: '48656C6C6F00FF', field: "{offset=1, length=2, type='str'}", expected: 'el' },
  { hex: '', field: '{0,1}', expected: null, note: 'empty packet' },
];

/** DESIGN.md §3: the RTP layout over 80 A2. */
export const RTP_VECTOR = {
  hex: '80A2',
  layout: '{ version = {0, 2}, extension = {3, 1}, csrc_count = {4, 4}, marker = {8, 1}, type = {9, 7} }',
  expected: { version: 2, extension: 0, csrc_count: 0, marker: 1, type: 34 } as Record<string, number>,
};

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A Lua literal for an expected value (strings as decimal escapes: binary-safe). */
export function luaLiteral(v: DataVector['expected']): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') {
    return '"' + Array.from(v, (c) => '\\' + c.charCodeAt(0)).join('') + '"';
  }
  if (typeof v === 'bigint') {
    // 9223372036854775808 would lex as a float: spell the minimum by name
    if (v === -(1n << 63n)) return 'math.mininteger';
    return v < 0n ? `(-${(-v).toString()})` : v.toString();
  }
  return String(v);
}

/** A filter that accepts exactly when the vector holds for `pkt`. */
export function vectorScript(v: DataVector): string {
  return [
    "local data = require'data'",
    `local lay = data.layout{ f = ${v.field} }`,
    'function filter(pkt)',
    '  local got = pkt:layout(lay).f',
    `  local want = ${luaLiteral(v.expected)}`,
    '  return got == want and math.type(got) == math.type(want)',
    'end',
  ].join('\n');
}

/** A filter that accepts exactly when every RTP field matches. */
export function rtpScript(): string {
  const checks = Object.entries(RTP_VECTOR.expected)
    .map(([k, want]) => `pkt.${k} == ${want}`)
    .join(' and ');
  return [
    `local rtp = ${RTP_VECTOR.layout}`,
    'function filter(pkt)',
    '  pkt:layout(rtp)',
    `  return ${checks}`,
    'end',
  ].join('\n');
}
