// NumPy .npy files (format version 1.0), so embeddings can be read with numpy.load.
import { writeFileAtomic } from './atomic.js';
import { readRegularFileSync } from './regular-file.js';

type NpyArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

function descr(a: NpyArray): string {
  if (a instanceof Float32Array) return '<f4';
  if (a instanceof Float64Array) return '<f8';
  if (a instanceof Int32Array) return '<i4';
  if (a instanceof BigInt64Array) return '<i8';
  return '|u1';
}

/** Serialises a C-order array of the given shape. */
export function serializeNpy(data: NpyArray, shape: readonly number[]): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic (6) + version (2) + header length (2) + header + '\n' is padded to a multiple of 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export function saveNpy(path: string, data: NpyArray, shape: readonly number[]): void {
  writeFileAtomic(path, serializeNpy(data, shape));
}

/** Reads a float32 / float64 / int32 / int64 / uint8 .npy file written in C order. */
export function loadNpy(path: string): { data: NpyArray; shape: number[] } {
  const buf = readRegularFileSync(path, 'npy file');
  if (buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const d = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (fortran) throw new Error(`${path}: Fortran-order arrays are not supported`);
  const body = buf.subarray(start + headerLen);
  const copy = new Uint8Array(body).buffer;
  const data =
    d === '<f4'
      ? new Float32Array(copy)
      : d === '<f8'
        ? new Float64Array(copy)
        : d === '<i4'
          ? new Int32Array(copy)
          : d === '<i8'
            ? new BigInt64Array(copy)
            : d === '|u1'
              ? new Uint8Array(copy)
              : null;
  if (!data) throw new Error(`${path}: unsupported dtype '${d}'`);
  return { data, shape };
}
