import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, manualSeed, randn, tidy, type Tensor } from '../../src/engine/index.js';
import { greedyKCenter, randomProxies, selectProxies, poolSize, classMajorToRows, rowsToClassMajor } from '../../src/ccp/index.js';

/** Rows of a [R, D] tensor as JS arrays. */
function rows(t: Tensor): number[][] {
  const [R, D] = t.shape as [number, number];
  const flat = t.toArray();
  return Array.from({ length: R }, (_, r) => flat.slice(r * D, (r + 1) * D));
}

/** Straightforward per-class farthest-first in JS, as written in spec §2.3. */
function referenceKCenter(pool: number[][][], prev: number[][][], K: number): number[][] {
  const C = pool.length;
  const sq = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0);
  const picks: number[][][] = [];
  for (let c = 0; c < C; c++) {
    const m = pool[c]!.map((x) => Math.min(...prev[c]!.map((p) => sq(x, p))));
    const chosen: number[][] = [];
    for (let r = 0; r < K; r++) {
      let j = 0;
      for (let i = 1; i < m.length; i++) if (m[i]! > m[j]!) j = i;
      chosen.push(pool[c]![j]!);
      pool[c]!.forEach((x, i) => (m[i] = Math.min(m[i]!, sq(x, pool[c]![j]!))));
    }
    picks.push(chosen);
  }
  const out: number[][] = [];
  for (let r = 0; r < K; r++) for (let c = 0; c < C; c++) out.push(picks[c]![r]!);
  return out;
}

test('poolSize: b′ = b if b >= K else b·K', () => {
  assert.equal(poolSize(12, 8), 12);
  assert.equal(poolSize(7, 4), 7);
  assert.equal(poolSize(8, 8), 8);
  assert.equal(poolSize(3, 4), 12);
  assert.equal(poolSize(1, 4), 4);
  assert.throws(() => poolSize(0, 4), /b/);
});

test('1-D farthest-first: zero seed picks the largest norm first, then the farthest, first index on ties', () => {
  tidy(() => {
    const pool = tensor([[[0], [1], [5], [2], [4]]]); // C=1, b'=5, D=1
    const prev = zeros([1, 1, 1]);
    assert.deepEqual(rows(greedyKCenter(pool, prev, 1)), [[5]]);
    assert.deepEqual(rows(greedyKCenter(pool, prev, 2)), [[5], [2]]);
    // After 5 and 2: m = [0, 1, 0, 0, 1] — tie between values 1 (index 1) and 4 (index 4) → index 1.
    assert.deepEqual(rows(greedyKCenter(pool, prev, 3)), [[5], [2], [1]]);
  });
});

test('all-equal distances pick the first candidate', () => {
  tidy(() => {
    const pool = tensor([
      [
        [1, 0],
        [0, 1],
        [-1, 0],
        [0, -1],
      ],
    ]);
    assert.deepEqual(rows(greedyKCenter(pool, zeros([1, 1, 2]), 1)), [[1, 0]]);
    // Second pick: m = min(‖x‖², ‖x − (1,0)‖²) = [0, 1, 1, 1] — the zero seed still counts — tie → (0, 1).
    assert.deepEqual(rows(greedyKCenter(pool, zeros([1, 1, 2]), 2)), [
      [1, 0],
      [0, 1],
    ]);
  });
});

test('seeds from prev are respected and then discarded', () => {
  tidy(() => {
    const pool = tensor([[[0], [1], [5], [2], [4]]]);
    // Seeds 5 and 0 already cover those points: m = [0, 1, 0, 4, 1] → 2 first, then tie 1 vs 4 → 1.
    const prev = tensor([[[5], [0]]]);
    const out = rows(greedyKCenter(pool, prev, 2));
    assert.deepEqual(out, [[2], [1]]);
    // A seed far away from everything makes the pick nearest to... the candidate farthest from it: 0.
    assert.deepEqual(rows(greedyKCenter(pool, tensor([[[100]]]), 1)), [[0]]);
  });
});

test('2-D, several classes at once; rows laid out as r·C + c', () => {
  tidy(() => {
    const pool = tensor([
      [
        [0, 0],
        [3, 4],
        [1, 1],
        [-3, -4],
      ], // class 0: norms 0, 5, √2, 5 → (3,4) first (first index), then (-3,-4)
      [
        [1, 0],
        [0, 2],
        [0, -1],
        [0, 0],
      ], // class 1: (0,2) first; then m = [1, 0, 1, 0] (zero seed) → (1,0)
      [
        [2, 2],
        [2, 1],
        [0, 0],
        [1, 2],
      ], // class 2: (2,2) first; then m = [0, 1, 0, 1] → (2,1)
    ]);
    const out = greedyKCenter(pool, zeros([3, 2, 2]), 2);
    assert.deepEqual(out.shape, [6, 2]);
    assert.deepEqual(rows(out), [
      [3, 4],
      [0, 2],
      [2, 2], // r = 0, classes 0, 1, 2
      [-3, -4],
      [1, 0],
      [2, 1], // r = 1
    ]);
    // Each row r·C + c is a candidate of class c.
    const byClass = rowsToClassMajor(out, 3);
    assert.deepEqual(byClass.shape, [3, 2, 2]);
    assert.deepEqual(rows(byClass.select(0, 1)), [
      [0, 2],
      [1, 0],
    ]);
  });
});

test('matches a plain per-class implementation on random pools with random seeds', () => {
  manualSeed(7);
  tidy(() => {
    const C = 5;
    const B = 12;
    const D = 6;
    const K = 4;
    const pool = randn([C, B, D], { dtype: 'float64' });
    const prev = randn([C, 3, D], { dtype: 'float64' });
    const got = rows(greedyKCenter(pool, prev, K));
    const toNested = (t: Tensor) => {
      const [a, b, d] = t.shape as [number, number, number];
      const f = t.toArray();
      return Array.from({ length: a }, (_, i) => Array.from({ length: b }, (_, j) => f.slice((i * b + j) * d, (i * b + j + 1) * d)));
    };
    assert.deepEqual(got, referenceKCenter(toNested(pool), toNested(prev), K));
  });
});

test('greedyKCenter validates shapes and K', () => {
  tidy(() => {
    assert.throws(() => greedyKCenter(zeros([2, 3, 4]), zeros([3, 1, 4]), 2), /prev/);
    assert.throws(() => greedyKCenter(zeros([2, 3, 4]), zeros([2, 1, 4]), 4), /K=4/);
    assert.throws(() => greedyKCenter(zeros([6, 4]), zeros([2, 1, 4]), 1), /pool/);
  });
});

test('b <= 1: K distinct random candidates of the right class', () => {
  manualSeed(3);
  tidy(() => {
    const C = 3;
    const K = 4;
    // Candidate j of class c has value 100·c + j, so the class and distinctness are visible.
    const vals: number[][][] = Array.from({ length: C }, (_, c) => Array.from({ length: K }, (_, j) => [100 * c + j]));
    const pool = tensor(vals);
    const out = rows(selectProxies(pool, zeros([C, K, 1]), K, 1)).map((r) => r[0]!);
    for (let c = 0; c < C; c++) {
      const mine = Array.from({ length: K }, (_, r) => out[r * C + c]!);
      assert.ok(
        mine.every((v) => Math.floor(v / 100) === c),
        `row of class ${c} holds ${mine}`,
      );
      assert.deepEqual(
        [...mine].sort((a, b) => a - b),
        [0, 1, 2, 3].map((j) => 100 * c + j),
      );
    }
    // Randomness: over a few draws, the first proxy of class 0 is not always the same candidate.
    const firsts = new Set<number>();
    for (let i = 0; i < 20; i++) firsts.add(randomProxies(pool, K).select(0, 0).item());
    assert.ok(firsts.size > 1);
  });
});

test('classMajorToRows / rowsToClassMajor are inverse', () => {
  tidy(() => {
    const t = randn([4, 3, 2]);
    assert.deepEqual(rowsToClassMajor(classMajorToRows(t), 4).toArray(), t.toArray());
    assert.deepEqual(rows(classMajorToRows(t))[1 * 4 + 2], Array.from(t.select(0, 2).select(0, 1).toArray()));
  });
});
