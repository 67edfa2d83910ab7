// Image preprocessing with sharp: decode, train augmentation / test resize-and-crop, normalisation to
// CHW float32. Spec 4.2 (DMLPreprocessing):
//   train: random crop of area fraction [0.16, 1], aspect [3/4, 4/3] (100 attempts, whole image as the
//          fallback) from the original image, bilinear resize to size x size, horizontal flip p = 0.5;
//   test:  resize the shorter side to resizeTo (256), centre crop size x size (227);
//   pixels ('caffe'): x = 255 * (rgb in [0,1] - mean), mean [0.485, 0.456, 0.406] (RGB), no std, then the
//          channels reversed to BGR.
// All random draws come from the Rng passed in (one per item; see loader.ts), so results are reproducible.
import sharp from 'sharp';
import type { Sharp, KernelEnum, OutputInfo } from 'sharp';
import { DataError } from './errors.js';
import { MAX_IMAGE_PIXELS, checkImagePixels } from './input-limits.js';
import type { ImageInput } from './dataset.js';
import type { Rng } from './random.js';

export type NormalizationSpec = {
  /** Per-channel mean in RGB order, in [0,1] units (length = output channels). */
  mean: readonly number[];
  /** Per-channel std (default 1). */
  std?: readonly number[];
  /** Multiplier after mean/std: value = scale * (x/255 - mean) / std (default 1). */
  scale?: number;
  /** Reverse channel order to BGR (3 channels only). */
  bgr?: boolean;
};
/** The named modes (the config's `dataset.normalization`). */
export const IMAGE_NORMALIZATIONS = ['caffe', 'imagenet', 'unit'] as const;
/** 'caffe' (spec 4.2, BGR, 255*(x-mean)), 'imagenet' ((x-mean)/std, RGB), 'unit' (x/255), or explicit. */
export type Normalization = (typeof IMAGE_NORMALIZATIONS)[number] | NormalizationSpec;

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface CropOptions {
  areaMin: number;
  areaMax: number;
  ratioMin: number;
  ratioMax: number;
  attempts: number;
}
export const DEFAULT_CROP: CropOptions = { areaMin: 0.16, areaMax: 1, ratioMin: 3 / 4, ratioMax: 4 / 3, attempts: 100 };

export interface TransformOptions {
  /** Output size: a square side or [height, width]. */
  size: number | readonly [number, number];
  /** Output channels: 3 (greyscale is replicated) or 1 (colour converted to luminance). Default 3. */
  channels?: 1 | 3;
  /** Default 'caffe'. With 1 channel the built-in modes use the mean of the RGB means / stds. */
  normalize?: Normalization;
  /** Test mode: the shorter side is resized to this before the centre crop. Default round(size * 256 / 227). */
  resizeTo?: number;
  /** Train mode random-resized-crop bounds. */
  crop?: Partial<CropOptions>;
  /** Train mode horizontal flip probability (default 0.5). */
  flipProb?: number;
  /** Resampling kernel (default 'linear' = bilinear). */
  kernel?: keyof KernelEnum;
}

export type Mode = 'train' | 'test';

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export function outputSize(opts: TransformOptions): [number, number] {
  const s = opts.size;
  const [h, w] = typeof s === 'number' ? [s, s] : [s[0], s[1]];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new Error(`transform size must be positive integers, got ${JSON.stringify(s)}`);
  return [h, w];
}

/** [C, H, W] of the preprocessed output. */
export function outputShape(opts: TransformOptions): [number, number, number] {
  const [h, w] = outputSize(opts);
  const c = opts.channels ?? 3;
  if (c !== 1 && c !== 3) throw new Error(`transform channels must be 1 or 3, got ${c}`);
  return [c, h, w];
}

/** Resolves a normalisation mode into per-channel (scale/std, mean) and channel order for `channels`. */
export function resolveNormalization(norm: Normalization | undefined, channels: 1 | 3): { mul: number[]; sub: number[]; bgr: boolean } {
  const mean1 = (a: readonly number[]) => [a.reduce((x, y) => x + y, 0) / a.length];
  let spec: NormalizationSpec;
  const n = norm ?? 'caffe';
  if (n === 'caffe') spec = { mean: channels === 3 ? IMAGENET_MEAN : mean1(IMAGENET_MEAN), scale: 255, bgr: channels === 3 };
  else if (n === 'imagenet') spec = { mean: channels === 3 ? IMAGENET_MEAN : mean1(IMAGENET_MEAN), std: channels === 3 ? IMAGENET_STD : mean1(IMAGENET_STD) };
  else if (n === 'unit') spec = { mean: Array(channels).fill(0) };
  else if (typeof n === 'object' && n !== null && Array.isArray(n.mean)) spec = n;
  else throw new Error(`normalize must be 'caffe', 'imagenet', 'unit' or {mean, std?, scale?, bgr?}, got ${JSON.stringify(n)}`);
  const std = spec.std ?? Array(channels).fill(1);
  if (spec.mean.length !== channels || std.length !== channels)
    throw new Error(`normalize: mean/std need ${channels} values, got mean ${spec.mean.length}, std ${std.length}`);
  if (spec.bgr && channels !== 3) throw new Error('normalize: bgr needs 3 channels');
  const scale = spec.scale ?? 1;
  // value = scale * (x/255 - mean) / std = x * mul - sub
  return { mul: std.map((s) => scale / 255 / s), sub: spec.mean.map((m, c) => (scale * m) / std[c]!), bgr: spec.bgr ?? false };
}

/**
 * Random crop box (TF `sample_distorted_bounding_box` style): area fraction ~ U[areaMin, areaMax], aspect
 * ratio w/h ~ U[ratioMin, ratioMax]; up to `attempts` tries for a box that fits, else the whole image.
 */
export function sampleCrop(width: number, height: number, rng: Rng, crop: Partial<CropOptions> = {}): CropBox {
  const o = { ...DEFAULT_CROP, ...crop };
  if (!(o.areaMin > 0 && o.areaMin <= o.areaMax && o.areaMax <= 1))
    throw new Error(`crop area bounds must satisfy 0 < min <= max <= 1, got [${o.areaMin}, ${o.areaMax}]`);
  if (!(o.ratioMin > 0 && o.ratioMin <= o.ratioMax)) throw new Error(`crop aspect bounds must satisfy 0 < min <= max, got [${o.ratioMin}, ${o.ratioMax}]`);
  const area = width * height;
  for (let a = 0; a < o.attempts; a++) {
    const target = area * rng.uniform(o.areaMin, o.areaMax);
    const ratio = rng.uniform(o.ratioMin, o.ratioMax);
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      return { left: rng.int(width - w + 1), top: rng.int(height - h + 1), width: w, height: h };
    }
  }
  return { left: 0, top: 0, width, height };
}

/** Test-time geometry: resize the shorter side to resizeTo (aspect kept, long side floored), centre crop. */
export function testGeometry(width: number, height: number, resizeTo: number, outH: number, outW: number): { width: number; height: number; crop: CropBox } {
  const short = Math.min(width, height);
  const rw = width === short ? resizeTo : Math.floor((resizeTo * width) / short);
  const rh = height === short ? resizeTo : Math.floor((resizeTo * height) / short);
  if (rw < outW || rh < outH) throw new Error(`test preprocessing: resizeTo ${resizeTo} gives ${rw}x${rh}, smaller than the ${outW}x${outH} crop`);
  return { width: rw, height: rh, crop: { left: Math.floor((rw - outW) / 2), top: Math.floor((rh - outH) / 2), width: outW, height: outH } };
}

function open(input: ImageInput): Sharp {
  if (input.kind === 'raw') return sharp(input.data, { raw: { width: input.width, height: input.height, channels: input.channels } });
  return sharp(input.bytes, { autoOrient: true, failOn: 'warning', limitInputPixels: MAX_IMAGE_PIXELS });
}

async function dims(input: ImageInput): Promise<[number, number]> {
  if (input.kind === 'raw') return [input.width, input.height];
  const m = await sharp(input.bytes, { failOn: 'warning', limitInputPixels: false }).metadata();
  const w = m.autoOrient?.width ?? m.width;
  const h = m.autoOrient?.height ?? m.height;
  if (!w || !h) throw new Error('image has no dimensions');
  checkImagePixels(input.where, w, h);
  return [w, h];
}

/** Interleaved HWC uint8 pixels. */
export interface RawPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** Converts sharp raw output (1-4 channels) to exactly `channels` (alpha dropped, grey replicated). */
function toChannels(buf: Buffer, info: OutputInfo, channels: 1 | 3): RawPixels {
  const n = info.width * info.height;
  const src = info.channels;
  if (src === channels) return { data: new Uint8Array(buf.buffer, buf.byteOffset, n * src), width: info.width, height: info.height, channels };
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 3) {
      if (src <= 2) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = buf[i * src]!;
      else for (let c = 0; c < 3; c++) out[3 * i + c] = buf[i * src + c]!;
    } else {
      out[i] = src <= 2 ? buf[i * src]! : Math.round(0.2126 * buf[i * src]! + 0.7152 * buf[i * src + 1]! + 0.0722 * buf[i * src + 2]!);
    }
  }
  return { data: out, width: info.width, height: info.height, channels };
}

async function finish(pipe: Sharp, channels: 1 | 3): Promise<RawPixels> {
  const p = channels === 1 ? pipe.greyscale() : pipe;
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return toChannels(data, info, channels);
}

function wrap(input: ImageInput, e: unknown): DataError {
  if (e instanceof DataError) return e;
  return new DataError(input.where, `cannot decode image: ${(e as Error).message}`, { cause: e });
}

/**
 * Decodes to raw pixels: `channels` 1 or 3, or the image's own (greyscale stays 1 channel, alpha dropped)
 * when omitted; optionally downscaled so the longer side is at most `maxSide` (the loader's in-memory
 * cache). Decode failures are DataErrors naming the source.
 */
export async function decodeImage(input: ImageInput, o: { channels?: 1 | 3; maxSide?: number; kernel?: keyof KernelEnum } = {}): Promise<RawPixels> {
  try {
    let pipe = open(input);
    if (o.maxSide !== undefined) pipe = pipe.resize(o.maxSide, o.maxSide, { fit: 'inside', withoutEnlargement: true, kernel: o.kernel ?? 'linear' });
    if (o.channels) return await finish(pipe, o.channels);
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    return toChannels(data, info, info.channels <= 2 ? 1 : 3);
  } catch (e) {
    throw wrap(input, e);
  }
}

/** Geometric transform only: uint8 HWC pixels of the output size (no normalisation). */
export async function transformPixels(input: ImageInput, mode: Mode, opts: TransformOptions, rng?: Rng): Promise<RawPixels> {
  const [outH, outW] = outputSize(opts);
  const channels = opts.channels ?? 3;
  const kernel = opts.kernel ?? 'linear';
  try {
    const [w, h] = await dims(input);
    let pipe = open(input);
    if (mode === 'train') {
      if (!rng) throw new Error('train mode preprocessing needs an Rng');
      const box = sampleCrop(w, h, rng, opts.crop);
      const flip = rng.chance(opts.flipProb ?? 0.5);
      if (box.width !== w || box.height !== h) pipe = pipe.extract(box);
      if (box.width !== outW || box.height !== outH) pipe = pipe.resize(outW, outH, { fit: 'fill', kernel });
      if (flip) pipe = pipe.flop();
    } else if (mode === 'test') {
      const resizeTo = opts.resizeTo ?? Math.round((Math.min(outH, outW) * 256) / 227);
      const g = testGeometry(w, h, resizeTo, outH, outW);
      if (g.width !== w || g.height !== h) pipe = pipe.resize(g.width, g.height, { fit: 'fill', kernel });
      if (g.width !== outW || g.height !== outH) pipe = pipe.extract(g.crop);
    } else throw new Error(`mode must be 'train' or 'test', got ${JSON.stringify(mode)}`);
    const px = await finish(pipe, channels);
    if (px.width !== outW || px.height !== outH) throw new Error(`internal: got ${px.width}x${px.height}, expected ${outW}x${outH}`);
    return px;
  } catch (e) {
    if (e instanceof Error && /^(train mode|mode must|test preprocessing|crop |transform )/.test(e.message)) throw e;
    throw wrap(input, e);
  }
}

/** HWC uint8 -> CHW float32 with the normalisation; writes into `out` at `offset` when given. */
export function normalizeToChw(px: RawPixels, norm: Normalization | undefined, out?: Float32Array, offset = 0): Float32Array {
  const { mul, sub, bgr } = resolveNormalization(norm, px.channels);
  const C = px.channels;
  const n = px.width * px.height;
  const dst = out ?? new Float32Array(C * n);
  if (dst.length < offset + C * n) throw new Error(`normalizeToChw(): output holds ${dst.length - offset} values after offset, needs ${C * n}`);
  for (let c = 0; c < C; c++) {
    const oc = bgr ? C - 1 - c : c; // input channel c (RGB) goes to output plane oc
    const m = mul[c]!;
    const s = sub[c]!;
    const base = offset + oc * n;
    const d = px.data;
    for (let i = 0; i < n; i++) dst[base + i] = d[i * C + c]! * m - s;
  }
  return dst;
}

/** Full preprocessing of one image to CHW float32 (into `out` at `offset` when given). */
export async function preprocess(input: ImageInput, mode: Mode, opts: TransformOptions, rng?: Rng, out?: Float32Array, offset = 0): Promise<Float32Array> {
  const px = await transformPixels(input, mode, opts, rng);
  return normalizeToChw(px, opts.normalize, out, offset);
}
