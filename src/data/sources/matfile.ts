// A small reader for MATLAB level-5 MAT-files (the format of `save` before -v7.3), enough for annotation
// files such as Cars196's cars_annos.mat: numeric, logical, char, cell and struct arrays, zlib-compressed
// variables (miCOMPRESSED), the small-data-element format, numeric data stored in a narrower type than the
// array class (MATLAB does this), both byte orders. Sparse, object and function-handle arrays are rejected
// with an error naming the variable. Reference: MathWorks, "MAT-File Format" (matfile_format.pdf), ch. 1.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { DataError } from '../errors.js';

export type MatArray =
  | { type: 'numeric'; mxClass: string; dims: number[]; data: Float64Array; imag?: Float64Array; logical?: boolean }
  | { type: 'char'; dims: number[] /** one string per row (column-major decoding), trailing spaces kept */; rows: string[] }
  | { type: 'cell'; dims: number[] /** column-major */; cells: MatArray[] }
  | { type: 'struct'; dims: number[]; fieldNames: string[] /** column-major */; elements: Record<string, MatArray>[] };

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
};
const MX_NAMES: Record<number, string> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};
const ELEM_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };

interface Element {
  type: number;
  data: Buffer;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
    readonly where: string,
  ) {}

  u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  /** Reads one data element (tag + data + padding to 8 bytes). */
  element(): Element {
    const b = this.buf;
    if (this.pos + 8 > b.length) throw new DataError(this.where, `truncated data element tag at byte ${this.pos}`);
    const first = this.u32(this.pos);
    const small = first >>> 16;
    if (small !== 0) {
      // small data element: 2-byte size, 2-byte type, 4 bytes of data
      const type = first & 0xffff;
      if (small > 4) throw new DataError(this.where, `small data element of ${small} bytes at byte ${this.pos}`);
      const data = b.subarray(this.pos + 4, this.pos + 4 + small);
      this.pos += 8;
      return { type, data };
    }
    const type = first;
    const n = this.u32(this.pos + 4);
    const start = this.pos + 8;
    if (start + n > b.length)
      throw new DataError(this.where, `data element of type ${type} at byte ${this.pos} claims ${n} bytes, only ${b.length - start} remain`);
    const data = b.subarray(start, start + n);
    // compressed elements are not padded; all others are padded to a multiple of 8 bytes
    this.pos = type === MI.COMPRESSED ? start + n : start + Math.ceil(n / 8) * 8;
    return { type, data };
  }
}

function numbers(el: Element, le: boolean, where: string): Float64Array {
  const size = ELEM_SIZE[el.type];
  if (!size) throw new DataError(where, `data element type ${el.type} is not numeric`);
  const n = Math.floor(el.data.length / size);
  const out = new Float64Array(n);
  const d = el.data;
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (el.type) {
      case MI.INT8:
        out[i] = d.readInt8(o);
        break;
      case MI.UINT8:
      case MI.UTF8:
        out[i] = d.readUInt8(o);
        break;
      case MI.INT16:
        out[i] = le ? d.readInt16LE(o) : d.readInt16BE(o);
        break;
      case MI.UINT16:
      case MI.UTF16:
        out[i] = le ? d.readUInt16LE(o) : d.readUInt16BE(o);
        break;
      case MI.INT32:
        out[i] = le ? d.readInt32LE(o) : d.readInt32BE(o);
        break;
      case MI.UINT32:
      case MI.UTF32:
        out[i] = le ? d.readUInt32LE(o) : d.readUInt32BE(o);
        break;
      case MI.SINGLE:
        out[i] = le ? d.readFloatLE(o) : d.readFloatBE(o);
        break;
      case MI.DOUBLE:
        out[i] = le ? d.readDoubleLE(o) : d.readDoubleBE(o);
        break;
      case MI.INT64:
        out[i] = Number(le ? d.readBigInt64LE(o) : d.readBigInt64BE(o));
        break;
      case MI.UINT64:
        out[i] = Number(le ? d.readBigUInt64LE(o) : d.readBigUInt64BE(o));
        break;
    }
  }
  return out;
}

function decodeChars(el: Element, le: boolean, where: string): number[] {
  if (el.type === MI.UTF8) return [...el.data.toString('utf8')].map((c) => c.codePointAt(0)!);
  return Array.from(numbers(el, le, where));
}

function parseMatrix(data: Buffer, le: boolean, where: string): { name: string; value: MatArray } {
  if (data.length === 0) return { name: '', value: { type: 'numeric', mxClass: 'double', dims: [0, 0], data: new Float64Array(0) } };
  const r = new Reader(data, le, where);
  const flagsEl = r.element();
  if (flagsEl.type !== MI.UINT32 || flagsEl.data.length < 8) throw new DataError(where, 'miMATRIX without an array-flags subelement');
  const flags = le ? flagsEl.data.readUInt32LE(0) : flagsEl.data.readUInt32BE(0);
  const mxClass = flags & 0xff;
  const complex = (flags & 0x0800) !== 0;
  const logical = (flags & 0x0200) !== 0;
  const dims = Array.from(numbers(r.element(), le, where));
  const nameEl = r.element();
  const name = nameEl.data.toString('latin1');
  const w = name ? `${where}:${name}` : where;
  const count = dims.reduce((a, b) => a * b, 1);
  const cls = MX_NAMES[mxClass];
  switch (cls) {
    case 'double':
    case 'single':
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64': {
      const real = numbers(r.element(), le, w);
      if (real.length !== count) throw new DataError(w, `numeric array of dims [${dims.join(', ')}] holds ${real.length} values`);
      const value: MatArray = { type: 'numeric', mxClass: cls, dims, data: real, logical: logical || undefined };
      if (complex) value.imag = numbers(r.element(), le, w);
      return { name, value };
    }
    case 'char': {
      const codes = count === 0 ? [] : decodeChars(r.element(), le, w);
      const nr = dims[0] ?? 0;
      const nc = count / Math.max(nr, 1);
      const rows: string[] = [];
      for (let i = 0; i < nr; i++) {
        let s = '';
        for (let j = 0; j < nc; j++) s += String.fromCodePoint(codes[i + j * nr] ?? 32);
        rows.push(s);
      }
      return { name, value: { type: 'char', dims, rows } };
    }
    case 'cell': {
      const cells: MatArray[] = [];
      for (let i = 0; i < count; i++) {
        const el = r.element();
        if (el.type !== MI.MATRIX) throw new DataError(w, `cell ${i} is not an miMATRIX element`);
        cells.push(parseMatrix(el.data, le, `${w}{${i + 1}}`).value);
      }
      return { name, value: { type: 'cell', dims, cells } };
    }
    case 'struct': {
      const lenEl = numbers(r.element(), le, w);
      const fl = lenEl[0] ?? 0;
      const namesEl = r.element();
      const nf = fl > 0 ? Math.floor(namesEl.data.length / fl) : 0;
      const fieldNames: string[] = [];
      for (let k = 0; k < nf; k++) {
        const raw = namesEl.data.subarray(k * fl, (k + 1) * fl);
        const z = raw.indexOf(0);
        fieldNames.push(raw.subarray(0, z < 0 ? raw.length : z).toString('latin1'));
      }
      const elements: Record<string, MatArray>[] = [];
      for (let i = 0; i < count; i++) {
        const rec: Record<string, MatArray> = {};
        for (const f of fieldNames) {
          const el = r.element();
          if (el.type !== MI.MATRIX) throw new DataError(w, `struct element ${i + 1} field '${f}' is not an miMATRIX element`);
          rec[f] = parseMatrix(el.data, le, `${w}(${i + 1}).${f}`).value;
        }
        elements.push(rec);
      }
      return { name, value: { type: 'struct', dims, fieldNames, elements } };
    }
    default:
      throw new DataError(w, `unsupported MATLAB array class ${cls ?? mxClass}`);
  }
}

/** Parses a level-5 MAT-file into its variables. */
export function parseMat(buf: Buffer, where = 'MAT-file'): Map<string, MatArray> {
  if (buf.length < 128) throw new DataError(where, 'too short for a MAT-file header (128 bytes)');
  const head = buf.subarray(0, 116).toString('latin1');
  if (head.startsWith('MATLAB 7.3')) throw new DataError(where, 'MATLAB v7.3 (HDF5) files are not supported; re-save with -v7 or -v6');
  const endian = buf.subarray(126, 128).toString('latin1');
  if (endian !== 'IM' && endian !== 'MI') throw new DataError(where, `not a level-5 MAT-file (endian indicator '${endian}')`);
  const le = endian === 'IM';
  const r = new Reader(buf, le, where);
  r.pos = 128;
  const vars = new Map<string, MatArray>();
  while (r.pos + 8 <= buf.length) {
    let el = r.element();
    if (el.type === MI.COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = zlib.inflateSync(el.data);
      } catch (e) {
        throw new DataError(where, `corrupt compressed variable: ${(e as Error).message}`, { cause: e });
      }
      const inner = new Reader(inflated, le, where);
      el = inner.element();
    }
    if (el.type !== MI.MATRIX) continue; // other top-level elements carry no variables
    const { name, value } = parseMatrix(el.data, le, where);
    vars.set(name, value);
  }
  return vars;
}

export function readMatFile(file: string): Map<string, MatArray> {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(file, `cannot read MAT-file: ${(e as Error).message}`, { cause: e });
  }
  return parseMat(buf, file);
}

/** The string of a char array (rows joined by newlines, right-trimmed), for struct fields like paths. */
export function matString(a: MatArray | undefined, where: string): string {
  if (!a || a.type !== 'char') throw new DataError(where, `expected a char array, got ${a ? a.type : 'nothing'}`);
  return a.rows.map((s) => s.replace(/\s+$/, '')).join('\n');
}

/** The single number of a 1x1 numeric array. */
export function matScalar(a: MatArray | undefined, where: string): number {
  if (!a || a.type !== 'numeric' || a.data.length !== 1)
    throw new DataError(where, `expected a numeric scalar, got ${a ? `${a.type} [${a.dims.join('x')}]` : 'nothing'}`);
  return a.data[0]!;
}
