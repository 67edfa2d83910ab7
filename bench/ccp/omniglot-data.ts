// Omniglot for the accuracy study, decoded once per process.
//
// The split is the data layer's own: `omniglotSplit` (background alphabets = training classes, evaluation
// alphabets = test classes, disjoint), then the MLRC fold of `mlrcFold` on the training classes (fold 0 = model 1,
// validating on the last quarter of the background classes in label order), exactly what `prepareData` does for
// `dataset: {name: 'omniglot', validation: 'classes', fold: 0}`. The only difference is speed: every PNG is
// resized once (test-mode geometry, the same sharp pipeline the loader uses: 105x105 -> size x size, bilinear)
// into an in-memory uint8 block, so the ~70 runs of a study do not each decode 27k PNGs again. The loader takes
// its no-resize fast path on such items (raw input already at the output geometry), so the tensors the model sees
// are the ones `prepareData` + the loader would give without augmentation. An optional cache file keeps the
// block between processes.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { ImageDataset, mlrcFold, omniglotSplit, transformPixels, type MemoryImages, type RawItem, type TransformOptions } from '../../src/data/index.js';
import { defaultOmniglotRoot, type RunData } from '../../src/training/data-setup.js';

export interface OmniglotStudyData {
  /** All background (training) classes, before the fold. */
  background: ImageDataset;
  /** All evaluation (test) classes. */
  evaluation: ImageDataset;
  transform: TransformOptions;
  decodeSeconds: number;
  fromCache: boolean;
}

function transformFor(size: number): TransformOptions {
  // What prepareData builds for {imageSize: size, channels: 1, normalization: 'unit', augment: false}.
  return { size, channels: 1, normalize: 'unit', resizeTo: size };
}

async function toMemory(
  ds: ImageDataset,
  transform: TransformOptions,
  name: string,
  cached: Uint8Array | null,
): Promise<{ ds: ImageDataset; pixels: Uint8Array }> {
  const size = transform.size as number;
  const per = size * size;
  let pixels: Uint8Array;
  if (cached && cached.length === ds.size * per) pixels = cached;
  else {
    pixels = new Uint8Array(ds.size * per);
    const CONCURRENCY = 8;
    let next = 0;
    const worker = async () => {
      while (next < ds.size) {
        const i = next++;
        const px = await transformPixels(await ds.load(i), 'test', transform);
        pixels.set(px.data.subarray(0, per), i * per);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }
  const memory: MemoryImages = { name, pixels, width: size, height: size, channels: 1, count: ds.size };
  const raw: RawItem[] = ds.items.map((it, i) => ({ source: { kind: 'memory', index: i }, className: it.className, origin: ds.where(i) }));
  return { ds: ImageDataset.build(name, raw, { memory, classOrder: ds.classNames }), pixels };
}

/**
 * Loads Omniglot's background and evaluation sets as in-memory images of `size` px (only the first `maxClasses`
 * classes of each when given). `cacheFile` (optional) holds both blocks (background first); it is rebuilt when its
 * length does not match.
 */
export async function loadOmniglotStudyData(opts: { root?: string; size: number; cacheFile?: string; maxClasses?: number }): Promise<OmniglotStudyData> {
  const root = opts.root ?? defaultOmniglotRoot();
  const split = await omniglotSplit(root);
  // Quick checks decode only the classes they use.
  const train = firstClasses(split.train, opts.maxClasses);
  const test = firstClasses(split.test, opts.maxClasses);
  const transform = transformFor(opts.size);
  const per = opts.size * opts.size;
  const total = (train.size + test.size) * per;
  let cached: Uint8Array | null = null;
  if (opts.cacheFile && existsSync(opts.cacheFile)) {
    const buf = readFileSync(opts.cacheFile);
    if (buf.length === total) cached = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  const t0 = Date.now();
  const bg = await toMemory(train, transform, `omniglot-background-${opts.size}px`, cached ? cached.subarray(0, train.size * per) : null);
  const ev = await toMemory(test, transform, `omniglot-evaluation-${opts.size}px`, cached ? cached.subarray(train.size * per) : null);
  const decodeSeconds = (Date.now() - t0) / 1000;
  if (opts.cacheFile && !cached) {
    mkdirSync(dirname(opts.cacheFile), { recursive: true });
    const tmp = `${opts.cacheFile}.tmp-${process.pid}`;
    writeFileSync(
      tmp,
      Buffer.concat([
        Buffer.from(bg.pixels.buffer, bg.pixels.byteOffset, bg.pixels.length),
        Buffer.from(ev.pixels.buffer, ev.pixels.byteOffset, ev.pixels.length),
      ]),
    );
    renameSync(tmp, opts.cacheFile);
  }
  return { background: bg.ds, evaluation: ev.ds, transform, decodeSeconds, fromCache: cached !== null };
}

function firstClasses(ds: ImageDataset, n: number | undefined): ImageDataset {
  if (n === undefined || n >= ds.numClasses) return ds;
  return ds.selectClasses(
    Array.from({ length: n }, (_, i) => i),
    ds.name,
  );
}

/**
 * The run data of the study: MLRC fold `fold` of the background classes (train / validation classes) and the
 * evaluation classes as the test set. `maxClasses` keeps the first n classes of each side (quick runs and tests;
 * prepareData's `dataset.maxClasses` does the same). `testIsValidation` points the test set at the validation
 * classes: learning-rate tuning runs never embed a test image.
 */
export function studyRunData(d: OmniglotStudyData, opts: { fold?: number; maxClasses?: number; testIsValidation?: boolean } = {}): RunData {
  const fold = mlrcFold(firstClasses(d.background, opts.maxClasses), (opts.fold ?? 0) + 1);
  const test = opts.testIsValidation ? fold.val : firstClasses(d.evaluation, opts.maxClasses);
  return { train: fold.train, validation: fold.val, test: { query: test }, transform: d.transform };
}
