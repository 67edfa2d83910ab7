// Turns the dataset section of a run config into the three sets a run needs: training classes, validation
// (held-out training classes per the MLRC fold, or held-out images), and the test retrieval set
// (self-retrieval, or query/gallery for In-Shop and CSV manifests that have them).
import { type ImageDataset, Rng, mlrcFold, loadDatasetSplits, preflightImages, type SkippedItem, type TestSet, type TransformOptions } from '../data/index.js';
import type { RunConfig } from './config.js';

export { defaultOmniglotRoot, type TestSet } from '../data/index.js';

export interface RunData {
  train: ImageDataset;
  validation: ImageDataset;
  /** Where the validation set came from, in words (for the setup summary). */
  validationSource?: string;
  test: TestSet;
  /** Preprocessing shared by every split; the loader picks train/test mode. */
  transform: TransformOptions;
  /** What preparing the data dropped or noticed (skipped images, classes left without training images). */
  report?: DataReport;
}

export interface DataReport {
  skipped: SkippedItem[];
  notes: string[];
}

type DatasetConfig = RunConfig['dataset'];

/** Keeps the first maxClasses classes and at most maxPerClass images of each (quick runs). */
function cap(ds: ImageDataset, cfg: DatasetConfig): ImageDataset {
  let out = ds;
  if (cfg.maxClasses !== undefined && cfg.maxClasses < out.numClasses) {
    out = out.selectClasses(
      Array.from({ length: cfg.maxClasses }, (_, i) => i),
      `${out.name}`,
    );
  }
  if (cfg.maxPerClass !== undefined) {
    const idx = out.classIndices().flatMap((members) => members.slice(0, cfg.maxPerClass));
    out = out.subset(
      idx.sort((a, b) => a - b),
      { name: out.name },
    );
  }
  return out;
}

/** Seeded per-class hold-out of a share of each class's images (validation = 'samples'). */
function holdOutSamples(ds: ImageDataset, share: number, seed: number): { train: ImageDataset; val: ImageDataset; emptied: string[] } {
  const rng = new Rng(seed);
  const trainIdx: number[] = [];
  const valIdx: number[] = [];
  const emptied: string[] = [];
  for (const [c, members] of ds.classIndices().entries()) {
    if (members.length === 1) emptied.push(ds.classNames[c]!);
    const shuffled = [...members];
    rng.shuffle(shuffled);
    const nVal = Math.max(1, Math.min(shuffled.length - 1, Math.round(shuffled.length * share)));
    valIdx.push(...shuffled.slice(0, nVal));
    trainIdx.push(...shuffled.slice(nVal));
  }
  const byIndex = (a: number, b: number) => a - b;
  return {
    train: ds.subset(trainIdx.sort(byIndex), { name: `${ds.name}/train` }),
    val: ds.subset(valIdx.sort(byIndex), { name: `${ds.name}/val` }),
    emptied,
  };
}

/** The preprocessing a dataset config describes (test-time resize defaults to the spec's 256/227 ratio). */
export function transformFor(cfg: DatasetConfig): TransformOptions {
  return {
    size: cfg.imageSize,
    channels: cfg.channels,
    normalize: cfg.normalization,
    resizeTo: cfg.resizeTo ?? (cfg.augment ? Math.round((cfg.imageSize * 256) / 227) : cfg.imageSize),
  };
}

/**
 * Loads and splits the data of a run. Every image of every split has its header checked first (unless
 * `checkImages` is false), so bad files are found before training; under onBadItem 'skip' they are dropped
 * and listed in the report. Fewer than two usable training classes is an error. `progress` prints what is
 * being loaded and how long it took (stderr).
 */
export async function prepareData(
  cfg: DatasetConfig,
  seed: number,
  options: { checkImages?: boolean; quiet?: boolean; progress?: boolean } = {},
): Promise<RunData> {
  const started = Date.now();
  if (options.progress) process.stderr.write(`loading dataset '${cfg.name}'${cfg.root ? ` from ${cfg.root}` : cfg.csv ? ` from ${cfg.csv}` : ''} ...\n`);
  const loaded = await loadDatasetSplits(cfg);
  const report: DataReport = { skipped: [], notes: [] };
  const check = async (ds: ImageDataset, split: string): Promise<ImageDataset> => {
    if (options.checkImages === false) return ds;
    // Large file-backed splits take seconds: say what is happening.
    const say = !options.quiet && ds.memory === undefined && ds.size >= 2000;
    const t0 = Date.now();
    if (say) process.stderr.write(`checking the ${ds.size} images of the ${split} split ...`);
    const r = await preflightImages(ds, split, cfg.onBadItem);
    if (say) process.stderr.write(` done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    report.skipped.push(...r.skipped);
    for (const c of r.emptiedClasses) report.notes.push(`class '${c}' of the ${split} split lost all its images to skipped files`);
    return r.dataset;
  };
  const capped = await check(cap(loaded.trainAll, cfg), 'training');
  let train: ImageDataset;
  let validation: ImageDataset;
  let validationSource: string;
  if (loaded.validation) {
    train = capped;
    validation = await check(cap(loaded.validation, cfg), 'validation');
    validationSource = `the manifest's 'val' rows`;
  } else if (cfg.validation === 'samples') {
    const h = holdOutSamples(capped, cfg.validationShare, seed);
    ({ train, val: validation } = h);
    for (const c of h.emptied)
      report.notes.push(`class '${c}' has a single training image, which went to the validation split: the class has no training images`);
    validationSource = `${Math.round(cfg.validationShare * 100)}% of each training class's images held out (validation: samples)`;
  } else {
    if (capped.numClasses < 4) {
      throw new Error(
        `dataset ${capped.name}: dataset.validation 'classes' holds out a quarter of the training classes, but there are only ${capped.numClasses}; use dataset.validation: samples or more classes`,
      );
    }
    const fold = mlrcFold(capped, cfg.fold + 1);
    ({ train, val: validation } = fold);
    validationSource = `training classes held out by MLRC fold ${cfg.fold} (validation: classes)`;
  }
  if (train.numClasses < 2) {
    throw new Error(
      `dataset ${capped.name}: ${train.numClasses} usable training class(es) after the validation split (${train.classNames.map((c) => `'${c}'`).join(', ') || 'none'}); metric learning needs at least 2`,
    );
  }
  const { test } = loaded;
  const query = await check(cap(test.query, cfg), test.gallery ? 'test query' : 'test');
  const gallery = test.gallery ? await check(cap(test.gallery, cfg), 'test gallery') : undefined;
  if (options.progress) {
    const n = train.size + validation.size + query.size + (gallery?.size ?? 0);
    process.stderr.write(`loaded ${n} image entries in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return { train, validation, validationSource, test: { query, gallery }, transform: transformFor(cfg), report };
}
