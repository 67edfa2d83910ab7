// Exact chunked kNN: hand cases with ties and duplicates, self-exclusion by index, chunking invariance,
// the memory budget, agreement with a brute-force ranking, errors and tensor hygiene.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, liveTensors } from '../../src/engine/index.js';
import { knn, knnChunkSize } from '../../src/evaluation/index.js';
import { bruteForceRanking, clustered, rng } from './helpers.js';

const rows = (a: ArrayLike<number>, k: number) => Array.from({ length: a.length / k }, (_, i) => Array.from(a).slice(i * k, (i + 1) * k));

test('1-D hand case: ascending distance, ties by smaller index, self excluded', () => {
  // x = [0, 1, 1, 1, 3, 5]
  const res = knn({ data: new Float32Array([0, 1, 1, 1, 3, 5]), shape: [6, 1] }, null, { k: 3 });
  assert.deepEqual(rows(res.indices, 3), [
    [1, 2, 3],
    [2, 3, 0],
    [1, 3, 0],
    [1, 2, 0],
    [1, 2, 3], // 1, 2, 3 and 5 all at distance 2: smallest indices win
    [4, 1, 2], // 1, 2, 3 tie at distance 4 across the cut-off
  ]);
  assert.deepEqual(rows(res.distances, 3), [
    [1, 1, 1],
    [0, 0, 1],
    [0, 0, 1],
    [0, 0, 1],
    [2, 2, 2],
    [2, 4, 4],
  ]);
  assert.ok(res.tieFallbackRows >= 2, `rows 4 and 5 have ties across the k-th position (${res.tieFallbackRows})`);
});

test('duplicates: self is excluded by index, not by dropping the first result', () => {
  // Rows 0, 1, 2 are identical. Dropping "the first retrieved" would drop row 0 for query 1 and keep 1 itself.
  const x = { data: new Float32Array([0, 0, 0, 0, 0, 0, 1, 0]), shape: [4, 2] as [number, number] };
  const res = knn(x, null, { k: 3 });
  assert.deepEqual(rows(res.indices, 3), [
    [1, 2, 3],
    [0, 2, 3],
    [0, 1, 3],
    [0, 1, 2],
  ]);
  assert.deepEqual(Array.from(res.distances.slice(0, 3)), [0, 0, 1]);
  for (let q = 0; q < 4; q++) assert.ok(!rows(res.indices, 3)[q]!.includes(q));
});

test('query/gallery: no exclusion, an identical gallery item is returned at distance 0', () => {
  const g = { data: new Float32Array([0, 2, 4, 6]), shape: [4, 1] as [number, number] };
  const q = { data: new Float32Array([1, 5, 6]), shape: [3, 1] as [number, number] };
  const res = knn(q, g, { k: 2 });
  assert.deepEqual(rows(res.indices, 2), [
    [0, 1],
    [2, 3],
    [3, 2],
  ]);
  assert.deepEqual(rows(res.distances, 2), [
    [1, 1],
    [1, 1],
    [0, 2],
  ]);
  assert.throws(() => knn(q, g, { k: 2, excludeSelf: true }), /excludeSelf needs as many queries as references/);
});

test('a Tensor input gives the same result and is not modified', () => {
  const { data, shape } = clustered(5, 40, 3, 4);
  const t = tensor(data, shape);
  const before = t.toArray();
  const a = knn(t, null, { k: 5 });
  const b = knn({ data, shape }, null, { k: 5 });
  assert.deepEqual(a.indices, b.indices);
  assert.deepEqual(t.toArray(), before);
  t.dispose();
});

test('chunked kNN equals one-chunk kNN (random and tie-heavy data, self and gallery)', () => {
  const { data, shape } = clustered(11, 157, 12, 9);
  const one = knn({ data, shape }, null, { k: 10, chunkSize: 157 });
  assert.equal(one.chunkSize, 157);
  for (const chunkSize of [1, 7, 64, 156]) {
    const c = knn({ data, shape }, null, { k: 10, chunkSize });
    assert.deepEqual(c.indices, one.indices, `chunkSize ${chunkSize}`);
    // 1-row chunks go through gemv, larger ones through gemm: distances agree to float rounding.
    for (let i = 0; i < c.distances.length; i++) assert.ok(Math.abs(c.distances[i]! - one.distances[i]!) < 1e-5, `chunkSize ${chunkSize} distance ${i}`);
  }
  // Integer grid points: many exact ties and duplicates.
  const r = rng(3);
  const grid = Float32Array.from({ length: 120 * 3 }, () => Math.floor(r() * 3));
  const gq = Float32Array.from({ length: 33 * 3 }, () => Math.floor(r() * 3));
  for (const [q, ref] of [
    [grid, null],
    [gq, grid],
  ] as const) {
    const nq = q.length / 3;
    const base = knn({ data: q, shape: [nq, 3] }, ref && { data: ref, shape: [120, 3] }, { k: 15, chunkSize: nq });
    for (const chunkSize of [1, 5, 32]) {
      const c = knn({ data: q, shape: [nq, 3] }, ref && { data: ref, shape: [120, 3] }, { k: 15, chunkSize });
      assert.deepEqual(c.indices, base.indices, `grid chunkSize ${chunkSize}`);
    }
  }
});

test('kNN agrees with a brute-force stable ranking, including heavy ties (float32 and float64)', () => {
  const r = rng(9);
  const n = 120;
  const grid = Float32Array.from({ length: n * 3 }, () => Math.floor(r() * 3));
  const brute = bruteForceRanking(grid, n, grid, n, 3, true);
  for (const dtype of ['float32', 'float64'] as const) {
    for (const k of [1, 4, 17, n - 1]) {
      const res = knn({ data: grid, shape: [n, 3] }, null, { k, dtype, chunkSize: 25 });
      assert.deepEqual(
        rows(res.indices, k),
        brute.map((o) => o.slice(0, k)),
        `${dtype} k=${k}`,
      );
    }
  }
  const { data, shape } = clustered(21, 200, 8, 10);
  const bf = bruteForceRanking(data, 200, data, 200, 8, true);
  const res = knn({ data, shape }, null, { k: 30, memoryBudgetBytes: 20_000 });
  assert.ok(res.chunkSize < 200, `a small budget gives several chunks (chunkSize ${res.chunkSize})`);
  assert.deepEqual(
    rows(res.indices, 30),
    bf.map((o) => o.slice(0, 30)),
  );
  // distances are Euclidean
  const i = 17,
    j = res.indices[i * 30]!;
  let s = 0;
  for (let t = 0; t < 8; t++) s += (data[i * 8 + t]! - data[j * 8 + t]!) ** 2;
  assert.ok(Math.abs(res.distances[i * 30]! - Math.sqrt(s)) < 1e-4);
});

test('chunk size follows the memory budget', () => {
  const c = knnChunkSize(60_000, 60_000, 12, 512 * 1024 * 1024);
  assert.ok(c > 500 && c < 2500, `60k refs, 512 MiB: ${c} queries per chunk`);
  // scores + mask of one chunk stay within the budget
  assert.ok(c * 60_000 * 5 <= 512 * 1024 * 1024);
  assert.equal(knnChunkSize(100, 50, 5, 1e12), 100);
  assert.equal(knnChunkSize(100, 1e6, 5, 10), 1);
  assert.ok(knnChunkSize(1000, 1000, 5, 1e6, 'float64') < knnChunkSize(1000, 1000, 5, 1e6, 'float32'));
});

test('errors name the argument at fault', () => {
  const x = { data: new Float32Array([0, 1, 2]), shape: [3, 1] as [number, number] };
  assert.throws(() => knn(x, null, { k: 3 }), /k must be an integer in \[1, 2\]/);
  assert.throws(() => knn(x, null, { k: 0 }), /k must be/);
  assert.throws(() => knn(x, { data: new Float32Array(4), shape: [2, 2] }, { k: 1 }), /dimension 1 but references have 2/);
  assert.throws(() => knn({ data: new Float32Array([0, NaN]), shape: [2, 1] }, null, { k: 1 }), /queries: embeddings contain NaN/);
  assert.throws(() => knn({ data: new Float32Array(5), shape: [3, 2] }, null, { k: 1 }), /queries: shape \[3, 2\] needs 6 values/);
  assert.throws(() => knn(x, null, { k: 1, chunkSize: 0 }), /chunkSize must be a positive integer/);
});

test('no tensor outlives a kNN call', () => {
  const { data, shape } = clustered(2, 64, 4, 5);
  knn({ data, shape }, null, { k: 3 }); // warm up lazy state
  const before = liveTensors();
  knn({ data, shape }, null, { k: 6, chunkSize: 10 });
  knn({ data: new Float32Array([0, 1, 1, 1, 3, 5]), shape: [6, 1] }, null, { k: 3, chunkSize: 2 });
  assert.equal(liveTensors(), before);
});
