// Cars196 / Stanford Cars (Krause et al., 3dRR 2013). The original site
// (https://ai.stanford.edu/~jkrause/cars/car_dataset.html) is offline; the archive car_ims.tgz and the
// annotation file cars_annos.mat are mirrored on Kaggle and academictorrents (search "stanford cars
// car_ims.tgz cars_annos.mat"). `root` holds cars_annos.mat and car_ims/ (000001.jpg ... 016185.jpg).
// cars_annos.mat (MATLAB v5) holds `annotations`, a 1x16185 struct array with fields relative_im_path
// ('car_ims/000001.jpg'), bbox_x1..bbox_y2, class (1..196) and test (the classification split, unused
// here), and `class_names`, a 1x196 cell of strings. DML protocol: train = classes 1-98 (8,054 images),
// test = classes 99-196 (8,131).
import path from 'node:path';
import { DataError, handleBad } from '../errors.js';
import { ImageDataset, type RawItem } from '../dataset.js';
import { checkFilesExist, type FileSourceOptions } from './common.js';
import { matScalar, matString, readMatFile } from './matfile.js';
import type { BenchmarkSplit } from './cub.js';

export interface CarsOptions extends FileSourceOptions {
  /** Number of leading classes used for training (default 98). */
  trainClasses?: number;
  annotationsFile?: string;
}

export function loadCars196(root: string, opts: CarsOptions = {}): BenchmarkSplit & { all: ImageDataset } {
  const abs = path.resolve(root);
  const file = opts.annotationsFile ?? path.join(abs, 'cars_annos.mat');
  const vars = readMatFile(file);
  const ann = vars.get('annotations');
  if (!ann || ann.type !== 'struct') throw new DataError(file, `no struct array 'annotations' (variables: ${[...vars.keys()].join(', ')})`);
  for (const f of ['relative_im_path', 'class'])
    if (!ann.fieldNames.includes(f)) throw new DataError(`${file}:annotations`, `missing field '${f}' (fields: ${ann.fieldNames.join(', ')})`);
  const namesVar = vars.get('class_names');
  let classNames: string[];
  if (namesVar && namesVar.type === 'cell') classNames = namesVar.cells.map((c, i) => matString(c, `${file}:class_names{${i + 1}}`));
  else {
    const maxClass = Math.max(...ann.elements.map((e, i) => matScalar(e['class'], `${file}:annotations(${i + 1}).class`)));
    classNames = Array.from({ length: maxClass }, (_, i) => String(i + 1));
  }
  const nTrain = opts.trainClasses ?? 98;
  const raw: RawItem[] = [];
  ann.elements.forEach((e, i) => {
    const where = `${file}:annotations(${i + 1})`;
    try {
      const rel = matString(e['relative_im_path'], `${where}.relative_im_path`);
      const cls = matScalar(e['class'], `${where}.class`);
      if (!Number.isInteger(cls) || cls < 1 || cls > classNames.length)
        throw new DataError(`${where}.class`, `unknown label: class ${cls} outside 1..${classNames.length}`);
      raw.push({
        source: { kind: 'file', path: path.join(abs, rel) },
        className: classNames[cls - 1]!,
        split: cls <= nTrain ? 'train' : 'test',
        origin: where,
      });
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      handleBad(opts, err);
    }
  });
  const items = checkFilesExist(raw, opts);
  const all = ImageDataset.build('cars196', items, { classOrder: classNames, onBadItem: opts.onBadItem, warn: opts.warn });
  return { all, train: all.filterSplit('train', 'cars196-train'), test: all.filterSplit('test', 'cars196-test') };
}
