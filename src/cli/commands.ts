// The eval, embed and search commands, as functions (the CLI prints their results; tests call them).
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { tensor, tidy } from '../engine/index.js';
import { saveNpy, saveSafetensors } from '../engine/serialization/index.js';
import { ImageLoader, type ImageDataset, type TransformOptions } from '../data/index.js';
import { folderImages, fileImages, itemsOf } from '../index/item-sources.js';
import { nearestRows } from '../index/exact.js';
import { knn, normalizeEmbeddings, type RetrievalResult } from '../evaluation/index.js';
import { prepareData, transformFor } from '../training/data-setup.js';
import { embedItems, evaluateEmbeddings, type Embeddings } from '../training/embed.js';
import { loadRun } from './run-files.js';
import { writeRunReport, writeMlrcReport, isMlrcRoot } from '../report/index.js';

export async function evaluateCommand(o: { run: string; weights?: string; split: 'test' | 'validation'; nmi?: boolean }): Promise<RetrievalResult> {
  const { config, model } = loadRun(o.run, o.weights);
  const data = await prepareData(config.dataset, config.seed);
  const loader = (ds: ImageDataset) => new ImageLoader(ds, { mode: 'test', transform: data.transform, onBadItem: config.dataset.onBadItem });
  const bs = config.training.evalBatchSize;
  const q = await embedItems(model, loader(o.split === 'test' ? data.test.query : data.validation), { batchSize: bs });
  const g = o.split === 'test' && data.test.gallery ? await embedItems(model, loader(data.test.gallery), { batchSize: bs }) : undefined;
  return evaluateEmbeddings(q, g, { ...config.evaluation, nmi: Boolean(o.nmi), seed: config.seed });
}

function finalRows(e: Embeddings, raw: boolean, mode: 'lipschitz' | 'l2' | 'none'): Float32Array {
  if (raw) return e.data;
  return tidy(() => normalizeEmbeddings(tensor(e.data, [e.labels.length, e.dim]), mode).toFloat32Array());
}

export async function embedCommand(o: { run: string; output: string; split: 'train' | 'validation' | 'test'; images?: string; raw?: boolean }): Promise<{ count: number; dim: number; files: string[] }> {
  const { config, model } = loadRun(o.run);
  const sets: [string, ImageDataset][] = [];
  let transform: TransformOptions;
  if (o.images) {
    sets.push(['', folderImages(o.images)]);
    transform = transformFor(config.dataset);
  } else {
    const data = await prepareData(config.dataset, config.seed);
    transform = data.transform;
    if (o.split === 'train') sets.push(['', data.train]);
    else if (o.split === 'validation') sets.push(['', data.validation]);
    else if (data.test.gallery) sets.push(['query', data.test.query], ['gallery', data.test.gallery]);
    else sets.push(['', data.test.query]);
  }
  const files: string[] = [];
  let count = 0;
  let dim = 0;
  const ext = extname(o.output).toLowerCase();
  if (ext !== '.npy' && ext !== '.safetensors') throw new Error(`--output must end in .npy or .safetensors, got ${o.output}`);
  const stem = o.output.slice(0, -ext.length);
  for (const [tag, ds] of sets) {
    const e = await embedItems(model, new ImageLoader(ds, { mode: 'test', transform, onBadItem: config.dataset.onBadItem }), { batchSize: config.training.evalBatchSize });
    const rows = finalRows(e, Boolean(o.raw), config.evaluation.normalization);
    const base = tag ? `${stem}.${tag}` : stem;
    if (ext === '.npy') {
      saveNpy(`${base}.npy`, rows, [e.labels.length, e.dim]);
      saveNpy(`${base}.labels.npy`, e.labels, [e.labels.length]);
      files.push(`${base}.npy`, `${base}.labels.npy`);
    } else {
      tidy(() => saveSafetensors(`${base}.safetensors`, { embeddings: tensor(rows, [e.labels.length, e.dim]), labels: tensor(e.labels, [e.labels.length], { dtype: 'int64' }) }, { classes: JSON.stringify(ds.classNames), dataset: ds.name }));
      files.push(`${base}.safetensors`);
    }
    // Row i's id, path and original class name (the label arrays hold the dataset's contiguous label indices).
    // Images skipped under onBadItem 'skip' have no row: their items are left out so row i stays item i.
    const skipped = new Set(e.skipped ?? []);
    const items = itemsOf(ds, o.images).filter((_, i) => !skipped.has(i));
    writeFileSync(`${base}.items.jsonl`, items.map((it) => JSON.stringify(it) + '\n').join(''));
    files.push(`${base}.items.jsonl`);
    count += e.labels.length;
    dim = e.dim;
  }
  return { count, dim, files };
}

export interface SearchResult {
  query: string;
  results: { path: string; label: string | null; distance: number }[];
}

export async function searchCommand(o: { run: string; gallery: string; queries: readonly string[]; k: number }): Promise<SearchResult[]> {
  const { config, model } = loadRun(o.run);
  const transform = transformFor(config.dataset);
  const gallery = folderImages(o.gallery);
  const queries = fileImages(o.queries);
  const opts = { mode: 'test' as const, transform, onBadItem: 'fail' as const };
  const bs = config.training.evalBatchSize;
  const g = await embedItems(model, new ImageLoader(gallery, opts), { batchSize: bs });
  const q = await embedItems(model, new ImageLoader(queries, opts), { batchSize: bs });
  const k = Math.min(o.k, gallery.size);
  // The matmul kNN picks candidates; their final order and distances come from the exact norm of the
  // difference, so an image that is in the gallery comes back at distance 0 (the expanded form loses
  // ~1e-4 to cancellation). A few extra candidates cover order changes at the cut-off.
  const candidates = Math.min(gallery.size, 2 * k + 8);
  const mode = config.evaluation.normalization;
  const { qn, gn, r } = tidy(() => {
    const qt = normalizeEmbeddings(tensor(q.data, [q.labels.length, q.dim]), mode);
    const gt = normalizeEmbeddings(tensor(g.data, [g.labels.length, g.dim]), mode);
    return { qn: qt.toFloat32Array(), gn: gt.toFloat32Array(), r: knn(qt, gt, { k: candidates }) };
  });
  return o.queries.map((path, i) => {
    const query = qn.subarray(i * q.dim, (i + 1) * q.dim);
    const rows = Array.from(r.indices.subarray(i * candidates, (i + 1) * candidates));
    return {
      query: path,
      results: nearestRows(query, gn, q.dim, rows, k).map(({ row, distance }) => {
        const item = gallery.items[row]!;
        return { path: (item.source as { path: string }).path, label: item.className === '.' ? null : item.className, distance };
      }),
    };
  });
}

/** Writes the HTML report of a run folder (or the summary of an MLRC protocol folder); returns its path. */
export async function reportCommand(o: { run: string; maxMapPoints?: number }): Promise<string> {
  if (isMlrcRoot(o.run)) return writeMlrcReport(o.run);
  return writeRunReport(o.run, { maxMapPoints: o.maxMapPoints, verbose: true });
}
