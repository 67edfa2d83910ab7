// In-Shop Clothes Retrieval (DeepFashion, Liu et al., CVPR 2016). Download from
// https://mmlab.ie.cuhk.edu.hk/projects/DeepFashion/InShopRetrieval.html (Google Drive): img.zip (unpack to
// <root>/img/...) and Eval/list_eval_partition.txt (put it at <root>/list_eval_partition.txt). The file has
// a count line, a header line "image_name item_id evaluation_status", then one line per image with status
// train / query / gallery. Train = 3,997 items (25,882 images); query 14,218 and gallery 12,612 images over
// 3,985 items. Query and gallery share one label space (the union of their item ids).
import path from 'node:path';
import { DataError, handleBad } from '../errors.js';
import { ImageDataset, sortClassNames, type RawItem } from '../dataset.js';
import { checkFilesExist, fields, parseIntField, readLines, type FileSourceOptions } from './common.js';

export interface InShopSplit {
  train: ImageDataset;
  query: ImageDataset;
  gallery: ImageDataset;
}

const STATUSES = new Set(['train', 'query', 'gallery']);

export function loadInShop(root: string, opts: FileSourceOptions & { partitionFile?: string } = {}): InShopSplit {
  const abs = path.resolve(root);
  const file = opts.partitionFile ?? path.join(abs, 'list_eval_partition.txt');
  const lines = readLines(file, 'In-Shop list_eval_partition.txt');
  if (lines.length < 2) throw new DataError(file, 'expected a count line and a header line');
  const count = parseIntField(fields(lines[0]!)[0], `${file}:1`, 'image count');
  const head = fields(lines[1]!).join(' ');
  if (head !== 'image_name item_id evaluation_status')
    throw new DataError(`${file}:2`, `expected header 'image_name item_id evaluation_status', got '${lines[1]!.text}'`);
  const raw: RawItem[] = [];
  let listed = 0;
  for (const line of lines.slice(2)) {
    const f = fields(line);
    if (f.length === 0) continue;
    listed++;
    const where = `${file}:${line.no}`;
    try {
      if (f.length !== 3) throw new DataError(where, `expected 3 columns (image_name item_id evaluation_status), got ${f.length}: '${line.text}'`);
      if (!STATUSES.has(f[2]!)) throw new DataError(where, `unknown split value '${f[2]}' (expected train, query or gallery)`);
      raw.push({ source: { kind: 'file', path: path.join(abs, f[0]!) }, className: f[1]!, split: f[2]!, origin: where });
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      handleBad(opts, e);
    }
  }
  if (listed !== count) handleBad(opts, new DataError(`${file}:1`, `count line says ${count} images, ${listed} are listed`));
  const items = checkFilesExist(raw, opts);
  const p = { onBadItem: opts.onBadItem, warn: opts.warn };
  const train = items.filter((r) => r.split === 'train');
  const query = items.filter((r) => r.split === 'query');
  const gallery = items.filter((r) => r.split === 'gallery');
  // query and gallery share one class order (the union of their item ids), so label l means the same item
  // in both; an item with images on one side only keeps its label with no images on the other side.
  const evalClasses = sortClassNames([...query, ...gallery].map((r) => r.className));
  const shared = { ...p, classOrder: evalClasses, allowEmptyClasses: true };
  return {
    train: ImageDataset.build('inshop-train', train, p),
    query: ImageDataset.build('inshop-query', query, shared),
    gallery: ImageDataset.build('inshop-gallery', gallery, shared),
  };
}
