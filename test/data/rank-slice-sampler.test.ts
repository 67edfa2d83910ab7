import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BatchLoader, MPerClassSampler, RankSliceSampler, rankSlice, loadImageFolder, type Batch } from '../../src/data/index.js';
import { fixtures } from './helpers.js';

test('rankSlice: contiguous slices in rank order that cover the batch once', () => {
  for (const [size, world] of [
    [8, 2],
    [7, 3],
    [2, 4],
  ] as const) {
    const rows = Array.from({ length: world }, (_, r) => rankSlice(size, r, world)).flatMap(({ start, end }) =>
      Array.from({ length: end - start }, (_, i) => start + i),
    );
    assert.deepEqual(
      rows,
      Array.from({ length: size }, (_, i) => i),
    );
  }
  assert.throws(
    () => new RankSliceSampler(new MPerClassSampler([0, 1], { m: 1, classesPerBatch: 2, seed: 1 }), 2, 2),
    /rank must be an integer in 0\.\.1, got 2/,
  );
});

test('2 rank slices of a seeded sampler, loaded with their position offsets, concatenate to the single-process batches (augmentation included)', async () => {
  const ds = loadImageFolder(path.join(fixtures, 'folder'));
  const opts = { mode: 'train' as const, transform: { size: 8 }, seed: 3, prefetch: 1 };
  const sampler = () => new MPerClassSampler(ds, { m: 2, classesPerBatch: 2, seed: 4 });
  const whole = new BatchLoader(ds, sampler(), opts);
  const ranks = [0, 1].map((r) => new BatchLoader(ds, new RankSliceSampler(sampler(), r, 2), { ...opts, positionOffset: rankSlice(4, r, 2).start }));
  for (let b = 0; b < 3; b++) {
    const w = (await whole.next()) as Batch;
    const parts = [(await ranks[0]!.next()) as Batch, (await ranks[1]!.next()) as Batch];
    assert.deepEqual([...parts[0]!.indices, ...parts[1]!.indices], [...w.indices]);
    assert.deepEqual([...parts[0]!.images, ...parts[1]!.images], [...w.images], `batch ${b}: same augmented pixels`);
  }
  assert.deepEqual(ranks[1]!.getState(), whole.getState(), 'the slice keeps the global sampler state (resume)');
  for (const l of [whole, ...ranks]) l.close();
});
