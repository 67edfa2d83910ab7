import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  BatchLoader,
  ImageLoader,
  RandomSampler,
  MPerClassSampler,
  SequentialSampler,
  loadImageFolder,
  loadOmniglot,
  mnistRetrievalSplit,
  type Batch,
} from '../../src/data/index.js';
import { fixtures } from './helpers.js';
import { omniglotFixture } from '../helpers/omniglot.js';

async function collect(l: BatchLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of l) out.push(b);
  return out;
}

const transform = { size: 8 };

test('prefetching loader yields exactly the batches of a non-prefetching one', async () => {
  const ds = loadImageFolder(path.join(fixtures, 'folder'));
  const mk = (prefetch: number, concurrency: number) =>
    new BatchLoader(ds, new RandomSampler(ds.size, { batchSize: 4, seed: 5 }), { mode: 'train', transform, seed: 9, prefetch, concurrency, maxBatches: 6 });
  const a = await collect(mk(0, 1));
  const b = await collect(mk(3, 4));
  assert.equal(a.length, 6);
  assert.deepEqual(
    a.map((x) => x.shape),
    [
      [4, 3, 8, 8],
      [2, 3, 8, 8],
      [4, 3, 8, 8],
      [2, 3, 8, 8],
      [4, 3, 8, 8],
      [2, 3, 8, 8],
    ],
  );
  assert.deepEqual(b, a);
  for (const x of a)
    assert.deepEqual(
      [...x.labels],
      [...x.indices].map((i) => ds.items[i]!.label),
    );
  // augmentation differs between epochs for the same image (seeded by batch number)
  const c = await collect(mk(2, 2));
  assert.deepEqual(c, a);
  const other = await collect(
    new BatchLoader(ds, new RandomSampler(ds.size, { batchSize: 4, seed: 5 }), { mode: 'train', transform, seed: 10, maxBatches: 6 }),
  );
  assert.notDeepEqual(
    other.map((x) => x.images),
    a.map((x) => x.images),
  );
});

test('loader state after consumed batches resumes identically despite prefetch', async () => {
  const ds = loadImageFolder(path.join(fixtures, 'folder'));
  const opts = { mode: 'train' as const, transform, seed: 1, prefetch: 3 };
  const mk = () => new BatchLoader(ds, new MPerClassSampler(ds, { m: 2, classesPerBatch: 2, seed: 4 }), opts);
  const a = mk();
  for (let i = 0; i < 3; i++) await a.next();
  const st = JSON.parse(JSON.stringify(a.getState()));
  assert.equal(st.nextBatch, 3);
  const cont = [await a.next(), await a.next(), await a.next()];
  const b = mk();
  b.setState(st);
  const again = [await b.next(), await b.next(), await b.next()];
  assert.deepEqual(again, cont);
  assert.deepEqual(
    again.map((x) => x!.batchIndex),
    [3, 4, 5],
  );
  assert.throws(() => b.setState(st), /before the first next/);
});

test('decoded cache gives the same outputs; output cache is test-mode only', async () => {
  const ds = loadImageFolder(path.join(fixtures, 'folder'));
  const plain = new ImageLoader(ds, { mode: 'train', transform, seed: 3 });
  const cached = new ImageLoader(ds, { mode: 'train', transform, seed: 3, cache: 'decoded' });
  const idx = [0, 1, 2, 3, 4, 5];
  const p = await plain.loadBatch(idx, 7);
  const c1 = await cached.loadBatch(idx, 7);
  const c2 = await cached.loadBatch(idx, 7);
  for (let i = 0; i < p.images.length; i++) assert.ok(Math.abs(p.images[i]! - c1.images[i]!) < 1e-3);
  assert.deepEqual(c2, c1);
  const out = new ImageLoader(ds, { mode: 'test', transform, cache: 'output' });
  const o1 = await out.loadBatch(idx);
  assert.deepEqual(await out.loadBatch(idx), o1);
  assert.throws(() => new ImageLoader(ds, { mode: 'train', transform, cache: 'output' }), /only valid in 'test' mode/);
  const seq = await collect(new BatchLoader(ds, new SequentialSampler(ds.size, 4), { mode: 'test', transform }));
  assert.deepEqual(
    seq.map((b) => [...b.indices]),
    [
      [0, 1, 2, 3],
      [4, 5],
    ],
  );
});

test('Omniglot MPerClass batches from the zip at 32 px, cached in memory', async () => {
  const ds = await loadOmniglot({ root: await omniglotFixture(), set: 'background' });
  const sampler = new MPerClassSampler(ds, { m: 2, classesPerBatch: 4, seed: 0 });
  const l = new BatchLoader(ds, sampler, {
    mode: 'train',
    transform: { size: 32, channels: 1, normalize: 'unit' },
    cache: 'decoded',
    cacheMaxSide: 64,
    maxBatches: 2,
  });
  const bs = await collect(l);
  assert.equal(bs.length, 2);
  for (const b of bs) {
    assert.deepEqual(b.shape, [8, 1, 32, 32]);
    assert.deepEqual([...b.labels.subarray(0, 4)], [...b.labels.subarray(4, 8)]);
    assert.ok(b.images.every((v) => v >= 0 && v <= 1));
  }
});

test('MNIST in-memory train batches', async () => {
  const { train } = mnistRetrievalSplit({ limit: 2000 });
  const l = new BatchLoader(train, new MPerClassSampler(train, { m: 4, classesPerBatch: 5, seed: 1 }), {
    mode: 'train',
    transform: { size: 28, channels: 1, normalize: 'unit', crop: { areaMin: 0.8 } },
    maxBatches: 3,
  });
  const bs = await collect(l);
  assert.deepEqual(
    bs.map((b) => b.shape),
    [
      [20, 1, 28, 28],
      [20, 1, 28, 28],
      [20, 1, 28, 28],
    ],
  );
  assert.deepEqual(new Set(bs[0]!.labels), new Set([0, 1, 2, 3, 4]));
});
