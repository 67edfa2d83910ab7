import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  loadCsvManifest,
  loadImageFolder,
  loadCub,
  loadCars196,
  loadInShop,
  loadSop,
  ImageLoader,
  BatchLoader,
  RandomSampler,
  DataError,
  ImageDataset,
} from '../../src/data/index.js';
import { tmpCopy, warnings, fixtures } from './helpers.js';
import { escapeRegExp } from '../helpers/regexp.js';

const isData = (re: RegExp) => (e: unknown) => e instanceof DataError && re.test(e.message);

test('missing image file: construction error names the file and the CSV line; skip drops it', () => {
  const dir = tmpCopy('csv');
  const csv = path.join(dir, 'manifest.csv');
  fs.rmSync(path.join(dir, 'images', 'im3.png'));
  assert.throws(
    () => loadCsvManifest(csv),
    isData(new RegExp(`${escapeRegExp(path.join(dir, 'images', 'im3.png'))}: image file not found \\(listed at ${escapeRegExp(csv)}:5\\)`)),
  );
  const w = warnings();
  const ds = loadCsvManifest(csv, { onBadItem: 'skip', warn: w.warn });
  assert.equal(ds.size, 4);
  assert.deepEqual([...ds.classNames], ['7', '12']); // class '3' lost its only image
  assert.equal(w.list.length, 1);
});

test('missing file at load time, corrupt and truncated PNG: load errors name the file; skip shrinks the batch', async () => {
  const dir = tmpCopy('folder');
  const ds = loadImageFolder(dir);
  const cat0 = path.join(dir, 'cat', 'cat0.png');
  const dog1 = path.join(dir, 'dog', 'dog1.png');
  const dog2 = path.join(dir, 'dog', 'dog2.png');
  fs.rmSync(cat0);
  fs.writeFileSync(dog1, Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png'));
  const good = fs.readFileSync(path.join(dir, 'emu', 'emu0.png'));
  fs.writeFileSync(dog2, good.subarray(0, Math.floor(good.length / 2)));
  const t = { size: 8 };
  const l = new ImageLoader(ds, { mode: 'test', transform: t });
  await assert.rejects(l.loadBatch([0]), isData(new RegExp(`^${escapeRegExp(cat0)}: image file not found`)));
  await assert.rejects(l.loadBatch([3]), isData(new RegExp(`^${escapeRegExp(dog1)}: cannot decode image`)));
  await assert.rejects(l.loadBatch([4]), isData(new RegExp(`^${escapeRegExp(dog2)}: cannot decode image`)));
  const w = warnings();
  const s = new ImageLoader(ds, { mode: 'test', transform: t, onBadItem: 'skip', warn: w.warn });
  const b = await s.loadBatch([0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...b.indices], [1, 2, 5]);
  assert.deepEqual(b.skipped, [0, 3, 4]);
  assert.deepEqual(b.shape, [3, 3, 8, 8]);
  assert.deepEqual([...b.labels], [0, 1, 2]);
  assert.equal(w.list.length, 3);
  assert.ok(w.list[1]!.includes(dog1));
  // a loader surfaces the error when the batch is consumed (prefetched batches do not crash the process)
  const bl = new BatchLoader(ds, new RandomSampler(ds.size, { batchSize: 6, seed: 1 }), { mode: 'test', transform: t, prefetch: 2 });
  await assert.rejects(bl.next(), DataError);
  bl.close();
});

test('bad CSV rows, header and unknown split values name the line', () => {
  const dir = tmpCopy('csv');
  const csv = path.join(dir, 'manifest.csv');
  fs.writeFileSync(csv, 'path,label,split\nimages/im0.png,7,train\nimages/im1.png,7\n');
  assert.throws(() => loadCsvManifest(csv), isData(new RegExp(`${escapeRegExp(csv)}:3: expected 3 columns`)));
  fs.writeFileSync(csv, 'path,label,split\nimages/im0.png,7,training\n');
  assert.throws(() => loadCsvManifest(csv), isData(new RegExp(`${escapeRegExp(csv)}:2: unknown split value 'training'`)));
  fs.writeFileSync(csv, 'file,class\nimages/im0.png,7\n');
  assert.throws(() => loadCsvManifest(csv), isData(new RegExp(`${escapeRegExp(csv)}:1: header must name the columns 'path' and 'label'`)));
  fs.writeFileSync(csv, 'path,label\nimages/im0.png,\n');
  assert.throws(() => loadCsvManifest(csv), isData(/:2: empty label/));
  fs.writeFileSync(csv, 'path,label\n"images/im0.png,7\n');
  assert.throws(() => loadCsvManifest(csv), isData(/:2: unterminated quoted field/));
  fs.writeFileSync(csv, 'path,label\nimages/im0.png,7\nimages/im1.png,8\n');
  assert.throws(() => loadCsvManifest(csv, { classes: ['7'] }), isData(new RegExp(`${escapeRegExp(csv)}:3: unknown label '8'`)));
  assert.equal(loadCsvManifest(csv).numClasses, 2);
});

test('In-Shop unknown status and SOP malformed lines name the line', () => {
  const dir = tmpCopy('inshop');
  const f = path.join(dir, 'list_eval_partition.txt');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('id_00000003           query', 'id_00000003           test'));
  assert.throws(() => loadInShop(dir), isData(new RegExp(`${escapeRegExp(f)}:8: unknown split value 'test'`)));
  const sop = tmpCopy('sop');
  const tr = path.join(sop, 'Stanford_Online_Products', 'Ebay_train.txt');
  fs.appendFileSync(tr, '99 x 1 bicycle_final/a.JPG\n');
  assert.throws(() => loadSop(path.join(sop, 'Stanford_Online_Products')), isData(new RegExp(`${escapeRegExp(tr)}:8: class_id must be an integer, got 'x'`)));
});

test('empty classes: empty class folder, CUB class without images; skip drops and relabels', () => {
  const dir = tmpCopy('folder');
  fs.mkdirSync(path.join(dir, 'bee'));
  fs.writeFileSync(path.join(dir, 'bee', 'notes.txt'), 'no images here');
  assert.throws(() => loadImageFolder(dir), isData(new RegExp(`${escapeRegExp(path.join(dir, 'bee'))}: class 'bee' has no images`)));
  const w = warnings();
  const ds = loadImageFolder(dir, { onBadItem: 'skip', warn: w.warn });
  assert.deepEqual([...ds.classNames], ['cat', 'dog', 'emu']);
  assert.equal(w.list.length, 1);

  const cub = tmpCopy('cub');
  const root = path.join(cub, 'CUB_200_2011');
  fs.appendFileSync(path.join(root, 'classes.txt'), '5 005.Crested_Auklet\n');
  assert.throws(() => loadCub(root, { trainClasses: 2 }), isData(/class '005\.Crested_Auklet' has no images/));
  const skipped = loadCub(root, { trainClasses: 2, onBadItem: 'skip', warn: () => {} });
  assert.equal(skipped.all.numClasses, 4);
  assert.throws(() => new ImageDataset('x', [], ['a']), /class 'a' \(label 0\) has no images/);
});

test('unknown labels: CUB class id not in classes.txt, Cars class beyond class_names', () => {
  const cub = tmpCopy('cub');
  const root = path.join(cub, 'CUB_200_2011');
  const f = path.join(root, 'image_class_labels.txt');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^2 1$/m, '2 9'));
  assert.throws(() => loadCub(root, { trainClasses: 2 }), isData(new RegExp(`${escapeRegExp(f)}:2: unknown label: class id '9'`)));
  const bad = path.join(fixtures, 'cars196-bad-class');
  const mat = path.join(bad, 'cars_annos.mat');
  assert.throws(
    () => loadCars196(bad, { trainClasses: 2, checkFiles: false }),
    isData(new RegExp(`${escapeRegExp(mat)}:annotations\\(10\\)\\.class: unknown label: class 7 outside 1\\.\\.4`)),
  );
  const w = warnings();
  const skipped = loadCars196(bad, { trainClasses: 2, checkFiles: false, onBadItem: 'skip', warn: w.warn });
  assert.equal(skipped.all.size, 9);
  assert.equal(w.list.length, 1);
  assert.throws(() => loadCars196(bad, { annotationsFile: path.join(bad, 'missing.mat') }), isData(/missing\.mat: cannot read MAT-file/));
});
