// The index and calibrate commands, as functions (the CLI prints their results; tests call them).
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { loadNpy } from '../engine/serialization/index.js';
import { loadCsvManifest, type ImageDataset } from '../data/index.js';
import { prepareData } from '../training/data-setup.js';
import {
  VectorIndex,
  RunEmbedder,
  modelIdentity,
  queryEmbeddings,
  folderImages,
  fileImages,
  itemsOf,
  type ModelIdentity,
  type Neighbour,
  type Quantization,
  type IndexItem,
  type IndexInfo,
} from '../index/index.js';
import {
  calibrateRun,
  loadCalibration,
  saveCalibration,
  thresholdPlotSvg,
  match,
  type Calibration,
  type Match,
  type ThresholdGoal,
} from '../calibrate/index.js';
import { loadRun } from '../training/run-files.js';

export interface IndexRun {
  dir: string;
  embedder: RunEmbedder;
  identity: ModelIdentity;
}

/** A run's model ready to embed, with its identity. */
export function openRun(runDir: string, dataRoot?: string): IndexRun {
  const { config, model } = loadRun(runDir, undefined, { dataRoot });
  return { dir: runDir, embedder: new RunEmbedder(config, model), identity: modelIdentity(runDir, config) };
}

/** Where the images to index come from: a folder, a CSV manifest (path,label[,split]) or a split of the run's dataset. */
export interface ImageSourceOptions {
  images?: string;
  csv?: string;
  split?: 'train' | 'validation' | 'test';
  /** Where the run's dataset is now, for --split (see loadRun). */
  dataRoot?: string;
}

async function imageSource(run: IndexRun, o: ImageSourceOptions): Promise<{ ds: ImageDataset; items: IndexItem[] }> {
  const given = [o.images, o.csv, o.split].filter((x) => x !== undefined).length;
  if (given !== 1) throw new Error('give exactly one image source: --images DIR, --csv FILE or --split train|validation|test');
  if (o.images) {
    const ds = folderImages(o.images);
    return { ds, items: itemsOf(ds, o.images) };
  }
  if (o.csv) {
    const ds = loadCsvManifest(o.csv);
    return { ds, items: itemsOf(ds) };
  }
  const data = await prepareData(run.embedder.config.dataset, run.embedder.config.seed);
  const ds = o.split === 'train' ? data.train : o.split === 'validation' ? data.validation : (data.test.gallery ?? data.test.query);
  return { ds, items: itemsOf(ds) };
}

/** Single image files: id = the path as given, one label (or none) for all. */
function fileSource(files: readonly string[], label?: string): { ds: ImageDataset; items: IndexItem[] } {
  return { ds: fileImages(files), items: files.map((f) => ({ id: f, path: resolve(f), label: label ?? null })) };
}

/** Embeds the items in batches of `batchSize` and stores each item's pixelDigest in it (see queryEmbedding). */
async function embedWithProgress(run: IndexRun, ds: ImageDataset, items: IndexItem[], o: { quiet?: boolean; batchSize?: number }): Promise<Float32Array> {
  const quiet = Boolean(o.quiet);
  const bar =
    !quiet && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { format: 'embedding [{bar}] {value}/{total} images | ETA {eta_formatted}', stream: process.stderr, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(ds.size, 0);
  try {
    const digests: string[] = [];
    const vectors = await run.embedder.embedDataset(ds, { batchSize: o.batchSize, digests, onProgress: (d) => bar?.update(d) });
    items.forEach((it, i) => (it.digest = digests[i]));
    return vectors;
  } finally {
    bar?.stop();
  }
}

export interface BuildOptions extends ImageSourceOptions {
  run: string;
  index: string;
  quantization?: Quantization;
  connectivity?: number;
  expansionAdd?: number;
  expansionSearch?: number;
  /** Images per forward pass while embedding (default DEFAULT_EMBED_BATCH). */
  batchSize?: number;
  quiet?: boolean;
}

export async function indexBuild(o: BuildOptions): Promise<IndexInfo> {
  const run = openRun(o.run, o.dataRoot);
  const { ds, items } = await imageSource(run, o);
  const vectors = await embedWithProgress(run, ds, items, o);
  const index = VectorIndex.create(o.index, {
    dim: run.embedder.dim,
    model: run.identity,
    quantization: o.quantization,
    connectivity: o.connectivity,
    expansionAdd: o.expansionAdd,
    expansionSearch: o.expansionSearch,
  });
  try {
    index.add(items, vectors);
    index.save({ snapshot: true });
    return index.info();
  } finally {
    index.close();
  }
}

export async function indexAdd(
  o: ImageSourceOptions & { run: string; index: string; files?: readonly string[]; label?: string; batchSize?: number; quiet?: boolean },
): Promise<{ added: number; size: number }> {
  const run = openRun(o.run, o.dataRoot);
  const index = VectorIndex.open(o.index, { model: run.identity });
  try {
    const src = o.files?.length ? fileSource(o.files, o.label) : await imageSource(run, o);
    const vectors = await embedWithProgress(run, src.ds, src.items, o);
    index.add(src.items, vectors);
    index.save();
    return { added: src.items.length, size: index.size };
  } finally {
    index.close();
  }
}

export function indexRemove(o: { index: string; ids: readonly string[] }): { removed: number; size: number } {
  const index = VectorIndex.open(o.index);
  try {
    index.remove(o.ids);
    index.save();
    return { removed: new Set(o.ids).size, size: index.size };
  } finally {
    index.close();
  }
}

/** Reclaims the space of removed items (rewrites the index without them and rebuilds its graph). */
export function indexCompact(o: { index: string }): { reclaimedRows: number; size: number } {
  const index = VectorIndex.open(o.index);
  try {
    return index.compact();
  } finally {
    index.close();
  }
}

export function indexInfo(o: { index: string }): IndexInfo {
  const index = VectorIndex.open(o.index, { readOnly: true });
  try {
    return index.info();
  } finally {
    index.close();
  }
}

export interface QueryResult {
  query: string;
  results: Neighbour[];
  /** With a calibration (or --threshold): the matched label of the nearest result, or 'unknown'. */
  match?: Match;
}

/** Query vectors from a .npy file ([D] or [N, D]) or a comma-separated list. */
export function readVectors(spec: string, dim: number): Float32Array[] {
  let data: Float32Array;
  if (existsSync(spec)) {
    const a = loadNpy(spec);
    data = Float32Array.from(a.data as ArrayLike<number>, Number);
  } else {
    const parts = spec.split(',').map((s) => s.trim());
    data = Float32Array.from(parts, (s) => {
      const x = Number(s);
      if (s === '' || !Number.isFinite(x)) throw new Error(`--vector: '${s}' is not a number (give comma-separated numbers or a .npy file)`);
      return x;
    });
  }
  if (data.length % dim !== 0 || data.length === 0) throw new Error(`--vector: ${data.length} values is not a whole number of ${dim}-d vectors`);
  return Array.from({ length: data.length / dim }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

export async function indexSearch(o: {
  index: string;
  run?: string;
  queries: readonly string[];
  vector?: string;
  k: number;
  label?: string;
  threshold?: number;
}): Promise<QueryResult[]> {
  const run = o.run ? openRun(o.run) : undefined;
  const index = VectorIndex.open(o.index, { model: run?.identity, readOnly: true });
  try {
    const calibration = run ? loadCalibration(run.dir, run.identity) : undefined;
    const threshold = o.threshold ?? calibration?.threshold;
    const queries: { name: string; vector: Float32Array }[] = [];
    if (o.vector) readVectors(o.vector, index.dim).forEach((v, i) => queries.push({ name: `vector ${i}`, vector: v }));
    if (o.queries.length) {
      if (!run) throw new Error('searching by image needs --run (the model that embeds the queries)');
      const ds = fileImages(o.queries);
      const vectors = await queryEmbeddings(run.embedder, index, ds);
      o.queries.forEach((q, i) => queries.push({ name: q, vector: vectors.subarray(i * index.dim, (i + 1) * index.dim) }));
    }
    if (!queries.length) throw new Error('nothing to search: give query images (with --run) or --vector');
    return queries.map((q) => {
      const results = index.search(q.vector, { k: o.k, label: o.label });
      return { query: q.name, results, ...(threshold !== undefined ? { match: match(results[0], threshold) } : {}) };
    });
  } finally {
    index.close();
  }
}

export async function calibrateCommand(o: {
  run: string;
  goal: ThresholdGoal;
  plot?: boolean;
  dataRoot?: string;
}): Promise<{ calibration: Calibration; files: string[] }> {
  const run = openRun(o.run, o.dataRoot);
  const { config, model } = run.embedder;
  const calibration = await calibrateRun({ config, model, identity: run.identity }, o.goal);
  const files = [saveCalibration(o.run, calibration)];
  if (o.plot ?? true) {
    const goal = o.goal.metric === 'f1' ? 'best F1' : `precision >= ${o.goal.target}`;
    const svg = await thresholdPlotSvg(
      calibration.curve,
      calibration.threshold,
      `Calibration of ${resolve(o.run)} (${calibration.queries} validation queries, ${goal})`,
    );
    const path = join(o.run, 'calibration.svg');
    writeFileSync(path, svg);
    files.push(path);
  }
  return { calibration, files };
}
