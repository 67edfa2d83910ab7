// CUB-200-2011 (Wah et al. 2011). Download CUB_200_2011.tgz from
// https://www.vision.caltech.edu/datasets/cub_200_2011/ (also data.caltech.edu/records/65de6-vp158) and
// unpack; `root` is the CUB_200_2011/ folder holding images.txt, image_class_labels.txt, classes.txt and
// images/. DML protocol (spec 5.1): train = classes 1-100 (5,864 images), test = classes 101-200 (5,924).
// train_test_split.txt (the classification split) is not used.
import path from 'node:path';
import { DataError, handleBad } from '../errors.js';
import { ImageDataset, type RawItem } from '../dataset.js';
import { checkFilesExist, fields, parseIntField, readLines, type FileSourceOptions } from './common.js';

export interface CubOptions extends FileSourceOptions {
  /** Number of leading classes used for training (default 100). */
  trainClasses?: number;
}

export interface BenchmarkSplit {
  train: ImageDataset;
  test: ImageDataset;
}

/** Parses "<id> <value>" lines into a map, naming file:line on errors. */
function idMap(file: string, what: string, opts: FileSourceOptions): Map<number, { value: string; where: string }> {
  const out = new Map<number, { value: string; where: string }>();
  for (const line of readLines(file, what)) {
    const where = `${file}:${line.no}`;
    const f = fields(line);
    if (f.length === 0) continue;
    try {
      if (f.length !== 2) throw new DataError(where, `expected '<id> <value>', got '${line.text}'`);
      const id = parseIntField(f[0], where, 'id');
      if (out.has(id)) throw new DataError(where, `duplicate id ${id}`);
      out.set(id, { value: f[1]!, where });
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      handleBad(opts, e);
    }
  }
  return out;
}

/** All of CUB with class-id order labels; `split` tags are 'train' / 'test' by the class rule. */
export function loadCub(root: string, opts: CubOptions = {}): BenchmarkSplit & { all: ImageDataset } {
  const abs = path.resolve(root);
  const nTrain = opts.trainClasses ?? 100;
  const classes = idMap(path.join(abs, 'classes.txt'), 'CUB classes.txt', opts);
  const images = idMap(path.join(abs, 'images.txt'), 'CUB images.txt', opts);
  const labels = idMap(path.join(abs, 'image_class_labels.txt'), 'CUB image_class_labels.txt', opts);
  const classIds = [...classes.keys()].sort((a, b) => a - b);
  const order = classIds.map((id) => classes.get(id)!.value);
  const trainNames = new Set(order.slice(0, nTrain));
  const raw: RawItem[] = [];
  for (const [imgId, img] of [...images].sort((a, b) => a[0] - b[0])) {
    const lab = labels.get(imgId);
    if (!lab) {
      handleBad(opts, new DataError(img.where, `image ${imgId} has no entry in image_class_labels.txt`));
      continue;
    }
    const cid = Number(lab.value);
    const cls = classes.get(cid);
    if (!Number.isInteger(cid) || !cls) {
      handleBad(opts, new DataError(lab.where, `unknown label: class id '${lab.value}' is not in classes.txt`));
      continue;
    }
    raw.push({
      source: { kind: 'file', path: path.join(abs, 'images', img.value) },
      className: cls.value,
      split: trainNames.has(cls.value) ? 'train' : 'test',
      origin: img.where,
    });
  }
  const items = checkFilesExist(raw, opts);
  const all = ImageDataset.build('cub200', items, { classOrder: order, onBadItem: opts.onBadItem, warn: opts.warn });
  return { all, train: all.filterSplit('train', 'cub200-train'), test: all.filterSplit('test', 'cub200-test') };
}
