import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  loadCub,
  loadCars196,
  loadSop,
  loadInShop,
  loadImageFolder,
  loadCsvManifest,
  readMatFile,
  matString,
  matScalar,
  DataError,
} from '../../src/data/index.js';
import { fixtures, tmpCopy, warnings } from './helpers.js';

test('CUB-200-2011: class-id order, first classes train, rest test, contiguous labels', () => {
  const root = path.join(fixtures, 'cub', 'CUB_200_2011');
  const { all, train, test: te } = loadCub(root, { trainClasses: 2 });
  assert.equal(all.size, 11);
  assert.deepEqual([...all.classNames], ['001.Black_footed_Albatross', '002.Laysan_Albatross', '003.Sooty_Albatross', '004.Groove_billed_Ani']);
  assert.deepEqual([...all.classCounts()], [3, 3, 3, 2]);
  assert.equal(train.size, 6);
  assert.equal(te.size, 5);
  assert.deepEqual([...train.classNames], ['001.Black_footed_Albatross', '002.Laysan_Albatross']);
  assert.deepEqual([...te.classNames], ['003.Sooty_Albatross', '004.Groove_billed_Ani']);
  assert.deepEqual([...te.labels()], [0, 0, 0, 1, 1]);
  assert.ok(te.items.every((it) => it.split === 'test'));
  const first = train.items[0]!;
  assert.equal(first.source.kind, 'file');
  assert.ok(train.where(0).endsWith(path.join('images', '001.Black_footed_Albatross', 'Black_footed_Albatross_001_101.jpg')));
  // default rule: first 100 classes are train, so all 4 fixture classes are train and test is empty
  assert.throws(() => loadCub(root), /no items with split test/);
});

test('Cars196: MATLAB v5 cars_annos.mat struct array, classes 1..n train', () => {
  const file = path.join(fixtures, 'cars196', 'cars_annos.mat');
  const vars = readMatFile(file);
  const ann = vars.get('annotations')!;
  assert.equal(ann.type, 'struct');
  if (ann.type !== 'struct') return;
  assert.deepEqual(ann.dims, [1, 10]);
  assert.deepEqual(ann.fieldNames, ['relative_im_path', 'bbox_x1', 'bbox_y1', 'bbox_x2', 'bbox_y2', 'class', 'test']);
  assert.equal(matString(ann.elements[3]!['relative_im_path'], 'x'), 'car_ims/000004.jpg');
  assert.equal(matScalar(ann.elements[3]!['class'], 'x'), 2);
  assert.equal(matScalar(ann.elements[3]!['bbox_x2'], 'x'), 304); // stored as miUINT16
  const bx = ann.elements[0]!['bbox_x1']!;
  assert.ok(bx.type === 'numeric' && bx.mxClass === 'double');
  const names = vars.get('class_names')!;
  assert.ok(names.type === 'cell' && names.cells.length === 4);
  assert.equal(matString(names.type === 'cell' ? names.cells[2] : undefined, 'x'), 'Acura TL Sedan 2012');

  const { all, train, test: te } = loadCars196(path.join(fixtures, 'cars196'), { trainClasses: 2 });
  assert.equal(all.size, 10);
  assert.deepEqual([...all.classCounts()], [3, 2, 3, 2]);
  assert.deepEqual([...train.classNames], ['AM General Hummer SUV 2000', 'Acura RL Sedan 2012']);
  assert.equal(train.size, 5);
  assert.equal(te.size, 5);
  assert.deepEqual([...te.labels()], [0, 0, 0, 1, 1]);
  assert.ok(te.where(0).endsWith(path.join('car_ims', '000006.jpg')));
});

test('MAT reader: truncated and non-MAT files are DataErrors naming the file', () => {
  const dir = tmpCopy('cars196');
  const f = path.join(dir, 'cars_annos.mat');
  const buf = fs.readFileSync(f);
  fs.writeFileSync(f, buf.subarray(0, 200));
  assert.throws(
    () => readMatFile(f),
    (e: unknown) => e instanceof DataError && e.message.includes(f),
  );
  fs.writeFileSync(f, Buffer.alloc(300, 65));
  assert.throws(() => readMatFile(f), /not a level-5 MAT-file/);
  assert.throws(() => loadCars196(path.join(dir, 'nope')), /cars_annos\.mat.*cannot read MAT-file/);
});

test('Stanford Online Products: Ebay_train/Ebay_test with header, class ids as class names', () => {
  const { train, test: te } = loadSop(path.join(fixtures, 'sop', 'Stanford_Online_Products'));
  assert.equal(train.size, 6);
  assert.equal(te.size, 5);
  assert.deepEqual([...train.classNames], ['1', '2', '3']);
  assert.deepEqual([...te.classNames], ['4', '5']);
  assert.deepEqual([...train.classCounts()], [2, 2, 2]);
  assert.deepEqual([...te.labels()], [0, 0, 1, 1, 1]);
  assert.ok(te.where(2).endsWith(path.join('cabinet_final', '111085122875_0.JPG')));
});

test('In-Shop: train / query / gallery, query and gallery share one label space', () => {
  const { train, query, gallery } = loadInShop(path.join(fixtures, 'inshop'));
  assert.equal(train.size, 4);
  assert.equal(query.size, 2);
  assert.equal(gallery.size, 4);
  assert.deepEqual([...train.classNames], ['id_00000001', 'id_00000005']);
  assert.deepEqual([...query.classNames], ['id_00000002', 'id_00000003', 'id_00000004']);
  assert.deepEqual([...gallery.classNames], [...query.classNames]);
  assert.deepEqual([...query.labels()], [0, 1]);
  assert.deepEqual([...gallery.labels()], [0, 0, 1, 2]); // id_00000004 is gallery-only, label 2 in both
  assert.ok(query.items.every((it) => it.split === 'query'));
  assert.ok(gallery.items.every((it) => it.split === 'gallery'));
});

test('image folder: one sub-folder per class, sorted', () => {
  const ds = loadImageFolder(path.join(fixtures, 'folder'));
  assert.deepEqual([...ds.classNames], ['cat', 'dog', 'emu']);
  assert.deepEqual([...ds.classCounts()], [2, 3, 1]);
  assert.equal(ds.labelOf('dog'), 1);
  assert.equal(ds.nameOf(2), 'emu');
  assert.throws(() => ds.labelOf('cow'), /unknown class 'cow'/);
});

test('CSV manifest: header, relative paths against the CSV folder, numeric labels sorted, splits', () => {
  const csv = path.join(fixtures, 'csv', 'manifest.csv');
  const ds = loadCsvManifest(csv);
  assert.equal(ds.size, 5);
  assert.deepEqual([...ds.classNames], ['3', '7', '12']);
  assert.deepEqual([...ds.labels()], [1, 1, 2, 0, 2]);
  assert.equal(ds.where(2), path.join(fixtures, 'csv', 'images', 'im2.png'));
  assert.deepEqual(
    ds.items.map((i) => i.split),
    ['train', 'train', 'train', 'test', 'val'],
  );
  const tr = ds.filterSplit('train');
  assert.deepEqual([...tr.classNames], ['7', '12']);
  assert.deepEqual([...tr.labels()], [0, 0, 1]);
});

test('skip policy drops bad CSV rows and missing files with a warning naming the line', () => {
  const dir = tmpCopy('csv');
  const csv = path.join(dir, 'manifest.csv');
  fs.appendFileSync(csv, 'images/missing.png,3,test\nimages/im0.png,7\n');
  const w = warnings();
  const ds = loadCsvManifest(csv, { onBadItem: 'skip', warn: w.warn });
  assert.equal(ds.size, 5);
  assert.equal(w.list.length, 2);
  assert.match(w.list[0]!, /manifest\.csv:8: expected 3 columns/);
  assert.match(w.list[1]!, /missing\.png: image file not found \(listed at .*manifest\.csv:7\)/);
});
