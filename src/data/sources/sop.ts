// Stanford Online Products (Oh Song et al., CVPR 2016). Download Stanford_Online_Products.zip from
// https://cvgl.stanford.edu/projects/lifted_struct/ (mirrors: ftp.cs.stanford.edu/cs/cvgl/) and unpack;
// `root` is the Stanford_Online_Products/ folder with Ebay_train.txt, Ebay_test.txt and the
// <super_class>_final/ image folders. Each annotation file has the header
// "image_id class_id super_class_id path". Train = 11,318 classes (59,551 images), test = 11,316 (60,502).
import path from 'node:path';
import { DataError, handleBad } from '../errors.js';
import { ImageDataset, type RawItem } from '../dataset.js';
import { checkFilesExist, fields, parseIntField, readLines, type FileSourceOptions } from './common.js';
import type { BenchmarkSplit } from './cub.js';

function parseEbay(file: string, split: string, root: string, opts: FileSourceOptions): RawItem[] {
  const lines = readLines(file, `SOP ${path.basename(file)}`);
  const head = lines[0] ? fields(lines[0]) : [];
  if (head.join(' ') !== 'image_id class_id super_class_id path') {
    throw new DataError(`${file}:1`, `expected header 'image_id class_id super_class_id path', got '${lines[0]?.text ?? ''}'`);
  }
  const raw: RawItem[] = [];
  for (const line of lines.slice(1)) {
    const f = fields(line);
    if (f.length === 0) continue;
    const where = `${file}:${line.no}`;
    try {
      if (f.length !== 4) throw new DataError(where, `expected 4 columns (image_id class_id super_class_id path), got ${f.length}: '${line.text}'`);
      parseIntField(f[0], where, 'image_id');
      const cls = parseIntField(f[1], where, 'class_id');
      parseIntField(f[2], where, 'super_class_id');
      raw.push({ source: { kind: 'file', path: path.join(root, f[3]!) }, className: String(cls), split, origin: where });
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      handleBad(opts, e);
    }
  }
  return raw;
}

export function loadSop(root: string, opts: FileSourceOptions = {}): BenchmarkSplit {
  const abs = path.resolve(root);
  const train = checkFilesExist(parseEbay(path.join(abs, 'Ebay_train.txt'), 'train', abs, opts), opts);
  const test = checkFilesExist(parseEbay(path.join(abs, 'Ebay_test.txt'), 'test', abs, opts), opts);
  const trainClasses = new Set(train.map((r) => r.className));
  const shared = test.find((r) => trainClasses.has(r.className));
  if (shared) throw new DataError(shared.origin!, `class_id ${shared.className} appears in both Ebay_train.txt and Ebay_test.txt`);
  const p = { onBadItem: opts.onBadItem, warn: opts.warn };
  return { train: ImageDataset.build('sop-train', train, p), test: ImageDataset.build('sop-test', test, p) };
}
