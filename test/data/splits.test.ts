import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linspaceBoundaries, mlrcFold, mlrcFolds, ablationSplit, classDisjointSplit, randomClassSplit } from '../../src/data/index.js';
import { fakeDataset } from './helpers.js';

test('linspace boundaries match int(numpy.linspace(0, C, 5))', () => {
  assert.deepEqual(linspaceBoundaries(100, 4), [0, 25, 50, 75, 100]);
  assert.deepEqual(linspaceBoundaries(98, 4), [0, 24, 49, 73, 98]);
  assert.deepEqual(linspaceBoundaries(11318, 4), [0, 2829, 5659, 8488, 11318]);
  assert.deepEqual(linspaceBoundaries(3997, 4), [0, 999, 1998, 2997, 3997]);
  assert.deepEqual(linspaceBoundaries(100, 3), [0, 33, 66, 100]);
});

test('MLRC 4 folds on 100 CUB-like classes: 25 val each, model k validates range 4-k', () => {
  const sizes = Array.from({ length: 100 }, (_, c) => 50 + (c % 13));
  const ds = fakeDataset(sizes);
  const folds = mlrcFolds(ds);
  assert.equal(folds.length, 4);
  const valSets = new Set<number>();
  for (const f of folds) {
    assert.equal(f.val.numClasses, 25);
    assert.equal(f.train.numClasses, 75);
    assert.equal(f.valRange, 4 - f.k);
    const lo = 25 * f.valRange;
    assert.deepEqual(
      f.valClasses,
      Array.from({ length: 25 }, (_, i) => lo + i),
    );
    // contiguous relabelling, class names kept in order, item counts preserved
    assert.deepEqual(
      [...f.val.classNames],
      f.valClasses.map((c) => ds.classNames[c]),
    );
    assert.deepEqual(
      [...f.train.classNames],
      f.trainClasses.map((c) => ds.classNames[c]),
    );
    assert.deepEqual(
      [...f.val.classCounts()],
      f.valClasses.map((c) => sizes[c]),
    );
    assert.equal(f.train.size + f.val.size, ds.size);
    assert.ok(f.train.labels().every((l) => l >= 0 && l < 75));
    for (const c of f.valClasses) valSets.add(c);
    for (const c of f.valClasses) assert.ok(!f.trainClasses.includes(c));
  }
  assert.equal(valSets.size, 100, 'the four validation ranges cover every class once');
  assert.deepEqual(mlrcFold(ds, 1).valClasses[0], 75);
  assert.throws(() => mlrcFold(ds, 5), /k must be an integer in 1\.\.4/);
});

test('Cars-like 98 classes: folds 73-74 train / 24-25 val; 3-split ablation 2/3 vs 1/3', () => {
  const ds = fakeDataset(Array.from({ length: 98 }, () => 3));
  assert.deepEqual(
    mlrcFolds(ds).map((f) => f.val.numClasses),
    [25, 24, 25, 24],
  );
  assert.deepEqual(
    mlrcFolds(ds).map((f) => f.train.numClasses),
    [73, 74, 73, 74],
  );
  const ab = ablationSplit(fakeDataset(Array.from({ length: 100 }, () => 2)));
  assert.equal(ab.train.numClasses, 66);
  assert.equal(ab.val.numClasses, 34);
  assert.equal(ab.valClasses[0], 66);
});

test('class-disjoint and seeded random class splits', () => {
  const ds = fakeDataset([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const { train, test: te } = classDisjointSplit(ds, 4);
  assert.deepEqual([...train.classNames], ['c000', 'c001', 'c002', 'c003']);
  assert.equal(te.numClasses, 6);
  assert.deepEqual([...te.labels()].slice(0, 6), [0, 0, 0, 0, 0, 0]);
  const a = randomClassSplit(ds, 0.5, 7);
  const b = randomClassSplit(ds, 0.5, 7);
  const c = randomClassSplit(ds, 0.5, 8);
  assert.deepEqual(a.trainClasses, b.trainClasses);
  assert.equal(a.trainClasses.length, 5);
  assert.deepEqual(
    [...a.trainClasses, ...a.testClasses].sort((x, y) => x - y),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.notDeepEqual(a.trainClasses, c.trainClasses);
  assert.equal(a.train.size + a.test.size, ds.size);
  assert.throws(() => randomClassSplit(ds, 10, 1), /class count in 1\.\.9/);
});
