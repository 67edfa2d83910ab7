// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian u64 header
// length N, an N-byte JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {..}}
// padded with spaces to 8-byte alignment, then the raw little-endian tensor bytes.
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { Tensor } from '../tensor.js';
import { tensor } from '../creation.js';
import { tidy } from '../scope.js';
import type { DType } from '../dtype.js';
import { writeFileAtomic } from './atomic.js';
import { checkRegularFile, readRegularFileSync } from './regular-file.js';

const TO_ST: Partial<Record<DType, string>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const ELEM_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Largest header accepted (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;
/** Most tensors one file may hold: a ResNet-50 checkpoint with optimiser moments has ~1,300; a header that
 *  lists more than this is crafted or corrupt, and building that many tensors would take minutes. */
export const MAX_SAFETENSORS_TENSORS = 100_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Counts `"data_offsets"` in the raw header bytes: a bound on the tensor count, found before JSON.parse. */
function countEntries(header: Buffer): number {
  const key = Buffer.from('"data_offsets"');
  let n = 0;
  for (let i = header.indexOf(key); i >= 0; i = header.indexOf(key, i + key.length)) n++;
  return n;
}

/** Parses the JSON header bytes; every error names `source`. */
function parseHeader(bytes: Buffer, fail: (msg: string) => never): Record<string, unknown> {
  const entries = countEntries(bytes);
  if (entries > MAX_SAFETENSORS_TENSORS) fail(`header lists ${entries} tensors, over the limit of ${MAX_SAFETENSORS_TENSORS} (corrupt or crafted file?)`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('header is not valid UTF-8 (tensor names and metadata must be UTF-8)');
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  return header;
}

/** safetensors dtype name of an engine dtype. */
export function safetensorsDType(d: DType): string {
  const s = TO_ST[d];
  if (!s) throw new Error(`safetensors: dtype '${d}' is not supported`);
  return s;
}

/** Tensors of a safetensors file by name (a Map, in file order), with the file's string metadata. */
export class SafetensorsFile extends Map<string, Tensor> {
  metadata: Record<string, string> = {};
  /** This map (so that `const { tensors, metadata } = loadSafetensors(p)` reads naturally). */
  get tensors(): Map<string, Tensor> {
    return this;
  }
  /** Frees every tensor. */
  dispose(): void {
    for (const t of this.values()) t.dispose();
  }
}

function checkLE(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: only little-endian hosts are supported');
}

// ---- half precision <-> float32 (exact for representable values, round-to-nearest-even otherwise) ----
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

function bf16ToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

function floatToBf16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** The raw little-endian bytes of a tensor in safetensors layout. */
function tensorBytes(t: Tensor, st: string): Uint8Array {
  if (st === 'F16' || st === 'BF16') {
    const vals = t.dataSync('float32') as Float32Array;
    const out = new Uint16Array(vals.length);
    const enc = st === 'F16' ? floatToHalf : floatToBf16;
    for (let i = 0; i < vals.length; i++) out[i] = enc(vals[i]!);
    return new Uint8Array(out.buffer);
  }
  const a = t.dataSync();
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function tensorFromBytes(bytes: Uint8Array, st: string, shape: number[]): Tensor {
  const copy = new Uint8Array(bytes.byteLength); // aligned, owned copy (Buffer#slice would share memory)
  copy.set(bytes);
  const buf = copy.buffer;
  switch (st) {
    case 'F64':
      return tensor(new Float64Array(buf), shape, { dtype: 'float64' });
    case 'F32':
      return tensor(new Float32Array(buf), shape, { dtype: 'float32' });
    case 'I64':
      return tensor(new BigInt64Array(buf), shape, { dtype: 'int64' });
    case 'I32':
      return tensor(new Int32Array(buf), shape, { dtype: 'int32' });
    case 'I16':
      return tensor(new Int16Array(buf), shape, { dtype: 'int16' });
    case 'I8':
      return tensor(new Int8Array(buf), shape, { dtype: 'int8' });
    case 'U8':
      return tensor(copy, shape, { dtype: 'uint8' });
    case 'BOOL':
      return tensor(copy, shape, { dtype: 'bool' });
    case 'F16':
    case 'BF16': {
      const h = new Uint16Array(buf);
      const f = new Float32Array(h.length);
      const dec = st === 'F16' ? halfToFloat : bf16ToFloat;
      for (let i = 0; i < h.length; i++) f[i] = dec(h[i]!);
      return tidy(() => tensor(f, shape, { dtype: st === 'F16' ? 'float16' : 'bfloat16' }));
    }
    default:
      throw new Error(`unsupported dtype '${st}'`);
  }
}

function toEntries(tensors: Map<string, Tensor> | Record<string, Tensor>): [string, Tensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

/** Encodes tensors (and string metadata) as a safetensors byte buffer. */
export function serializeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  checkLE();
  const entries = toEntries(tensors);
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error(`safetensors: '__metadata__' cannot be a tensor name`);
    if (!(t instanceof Tensor)) throw new Error(`safetensors: '${name}' is not a Tensor`);
    if (t.isDisposed) throw new Error(`safetensors: tensor '${name}' is disposed`);
    const st = safetensorsDType(t.dtype);
    const bytes = tensorBytes(t, st);
    header[name] = { dtype: st, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonLen = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonLen % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.allocUnsafe(8 + headerBytes.byteLength + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.byteLength), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

/** Decodes a safetensors buffer; `source` (a file name) appears in every error message. */
export function parseSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsFile {
  checkLE();
  const fail = (msg: string): never => {
    throw new Error(`safetensors: ${source}: ${msg}`);
  };
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.byteLength < 8) fail(`file is truncated (${b.byteLength} bytes, the 8-byte header length is missing)`);
  const n64 = b.readBigUInt64LE(0);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is too large (corrupt file?)`);
  const n = Number(n64);
  if (8 + n > b.byteLength) fail(`file is truncated: header needs ${n} bytes, only ${b.byteLength - 8} follow`);
  const header = parseHeader(b.subarray(8, 8 + n), fail);
  const dataStart = 8 + n;
  const dataLen = b.byteLength - dataStart;
  const file = new SafetensorsFile();
  const meta = header.__metadata__;
  if (meta !== undefined && meta !== null) {
    if (typeof meta !== 'object' || Array.isArray(meta)) fail('__metadata__ is not an object');
    for (const [k, v] of Object.entries(meta as object)) {
      if (typeof v !== 'string') fail(`__metadata__ '${k}' is not a string`);
      file.metadata[k] = v as string;
    }
  }
  const specs: { name: string; st: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const i = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!i || typeof i !== 'object') fail(`tensor '${name}': entry is not an object`);
    const st = i.dtype;
    if (typeof st !== 'string' || !(st in ELEM_SIZE)) fail(`tensor '${name}': unsupported dtype ${JSON.stringify(st)}`);
    const shape = i.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}': bad shape ${JSON.stringify(shape)}`);
    const off = i.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
      fail(`tensor '${name}': bad data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const numel = (shape as number[]).reduce((a, d) => a * d, 1);
    if (end - begin !== numel * ELEM_SIZE[st as string]!) {
      fail(`tensor '${name}': data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${shape}] of ${st} needs ${numel * ELEM_SIZE[st as string]!}`);
    }
    if (end > dataLen) fail(`file is truncated: tensor '${name}' ends at byte ${end} of the data, only ${dataLen} bytes present`);
    specs.push({ name, st: st as string, shape: shape as number[], begin, end });
  }
  const sorted = [...specs].sort((x, y) => x.begin - y.begin || x.end - y.end);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.begin < sorted[k - 1]!.end) fail(`tensors '${sorted[k - 1]!.name}' and '${sorted[k]!.name}' overlap`);
  }
  try {
    for (const s of specs) file.set(s.name, tensorFromBytes(b.subarray(dataStart + s.begin, dataStart + s.end), s.st, s.shape));
  } catch (err) {
    file.dispose();
    fail((err as Error).message);
  }
  return file;
}

/** Writes tensors (and string metadata) to `path` atomically. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  let bytes: Buffer;
  try {
    bytes = serializeSafetensors(tensors, metadata);
  } catch (err) {
    throw new Error(`saveSafetensors: ${path}: ${(err as Error).message}`, { cause: err });
  }
  writeFileAtomic(path, bytes);
}

/** Reads a safetensors file: a Map of tensors by name with `.metadata` (and `.tensors`, the map itself). */
export function loadSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readRegularFileSync(path, 'file');
  } catch (err) {
    throw new Error(`safetensors: cannot read '${path}': ${(err as Error).message}`, { cause: err });
  }
  return parseSafetensors(buf, path);
}

/** The string metadata of a safetensors file, read from its header alone (no tensor data). */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  const fail = (msg: string): never => {
    throw new Error(`safetensors: ${path}: ${msg}`);
  };
  let size: number;
  try {
    size = checkRegularFile(path, 'file');
  } catch (err) {
    return fail((err as Error).message);
  }
  if (size < 8) fail(`file is truncated (${size} bytes, the 8-byte header length is missing)`);
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n64 = len.readBigUInt64LE(0);
    if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is too large (corrupt file?)`);
    const n = Number(n64);
    if (8 + n > size) fail(`file is truncated: header needs ${n} bytes, only ${size - 8} follow`);
    const bytes = Buffer.alloc(n);
    readSync(fd, bytes, 0, n, 8);
    const meta = parseHeader(bytes, fail).__metadata__;
    if (meta === undefined || meta === null) return {};
    if (typeof meta !== 'object' || Array.isArray(meta)) fail('__metadata__ is not an object');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(meta as object)) {
      if (typeof v !== 'string') fail(`__metadata__ '${k}' is not a string`);
      out[k] = v as string;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
