// The bucketed gradient all-reduce across 2 real processes: every rank ends with the hand average of the
// ranks' gradients, in buckets split by size and dtype; absent gradients count as zeros unless absent on every
// rank; ranks with different parameters are refused on every rank.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed, tensor } from '../../src/index.js';
import { runRanks, lastJson, withTempDir } from './spawn-ranks.js';
import { REDUCER_SHAPES, reducerGrad } from './reducer-case.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'reducer-worker.js');

function handAverage(i: number, worldSize: number): number[] | null {
  const gs = Array.from({ length: worldSize }, (_, r) => reducerGrad(i, r));
  if (gs.every((g) => g === null)) return null;
  const n = gs.find((g) => g)!.length;
  return Array.from({ length: n }, (_, k) => gs.reduce((a, g) => a + (g ? g[k]! : 0), 0) / worldSize);
}

test('planBuckets: reverse parameter order, split by dtype and by the byte cap, a large parameter alone', () => {
  const ps = [tensor([1, 2, 3, 4]), tensor([1, 2], [2], { dtype: 'float64' }), tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), tensor([1])];
  const plan = distributed.planBuckets(ps, 20);
  assert.deepEqual(
    plan.map((b) => [b.dtype, b.params, b.bytes]),
    [
      ['float32', [3], 4],
      ['float32', [2], 40],
      ['float32', [0], 16],
      ['float64', [1], 16],
    ],
  );
});

test('planBuckets: a smaller cap for the first bucket of each dtype (DDP: 1 MiB, so the last layers start early)', () => {
  const ps = [tensor([1, 2, 3, 4]), tensor([1, 2, 3, 4]), tensor([1, 2], [2], { dtype: 'float64' }), tensor([1, 2]), tensor([1, 2])];
  // float32 in reverse: params 4, 3 (8 bytes each), 1, 0 (16 each); first cap 12 closes after param 4, cap 40 holds the rest.
  assert.deepEqual(
    distributed.planBuckets(ps, 40, 12).map((b) => [b.dtype, b.params, b.bytes]),
    [
      ['float32', [4], 8],
      ['float32', [3, 1, 0], 40],
      ['float64', [2], 16],
    ],
  );
  assert.deepEqual(
    distributed.planBuckets(ps, 40).map((b) => b.params),
    [[4, 3, 1], [0], [2]],
    'without a first cap: the 40-byte cap alone',
  );
  assert.equal(distributed.DEFAULT_FIRST_BUCKET_BYTES, 2 ** 20);
});

function checkAverages(results: { buckets: { params: number[] }[]; grads: (number[] | null)[] }[]): void {
  for (const [rank, o] of results.entries()) {
    assert.ok(o.buckets.length >= 3, `small cap: several buckets (${JSON.stringify(o.buckets)})`);
    assert.deepEqual(o.buckets.flatMap((b: { params: number[] }) => b.params).sort(), [0, 1, 2, 3, 4]);
    for (const [i, g] of o.grads.entries()) {
      assert.deepEqual(g, handAverage(i, 2), `rank ${rank} parameter ${i} (${REDUCER_SHAPES[i]!.dtype})`);
    }
    assert.equal(o.grads[4], null, 'no gradient on any rank stays none');
    assert.deepEqual(
      o.grads[2],
      reducerGrad(2, 0)!.map((v) => v / 2),
      'absent on rank 1 counts as zeros there',
    );
  }
}

test('2 ranks: GradientReducer averages gradients bucket by bucket, to the hand average (with and without hooks)', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const run = (overlap: string) => runRanks(WORKER, 2, () => ({ CCP_DML_TEST_STORE_FILE: join(dir, `store${overlap}`), CCP_DML_TEST_OVERLAP: overlap }));
    const [hooked, after] = await Promise.all([run('1'), run('0')]);
    for (const [results, overlap] of [
      [hooked.map(lastJson), true],
      [after.map(lastJson), false],
    ] as const) {
      checkAverages(results);
      for (const o of results) assert.equal(o.overlap, overlap);
    }
  }),
);

test('2 ranks, gradients from backward: buckets start during backward, in order, to the hand average', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const results = (await runRanks(WORKER, 2, () => ({ CCP_DML_TEST_STORE_FILE: join(dir, 'store'), CCP_DML_TEST_SCENARIO: 'backward' }))).map(lastJson);
    checkAverages(results);
    // Buckets start in plan order: a bucket with a parameter backward gives no gradient (4 on both ranks, 2 on
    // rank 1) waits for finish(), and so do the buckets after it; the ones before it start during backward.
    const first = (ps: number[]) => results[0].buckets.findIndex((b: { params: number[] }) => b.params.some((i) => ps.includes(i)));
    const [rank0, rank1] = [first([4]), first([2, 4])];
    assert.ok(rank0 > rank1 && rank1 > 0, `plan ${JSON.stringify(results[0].buckets)}`);
    assert.deepEqual(results[0].started, [rank0, rank0], 'rank 0: the buckets before the one holding parameter 4');
    assert.deepEqual(results[1].started, [rank1, rank1], 'rank 1: the buckets before the one holding parameter 2');
  }),
);

test('2 ranks: two backward passes before one reduce are refused (overlap needs one backward per reduce)', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const results = (await runRanks(WORKER, 2, () => ({ CCP_DML_TEST_STORE_FILE: join(dir, 'store'), CCP_DML_TEST_SCENARIO: 'twice' }))).map(lastJson);
    for (const o of results) assert.match(o.error, /was produced twice before the gradients were reduced/);
  }),
);

test('2 ranks: different parameter lists are refused on every rank, naming the differing rank', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const results = (await runRanks(WORKER, 2, () => ({ CCP_DML_TEST_STORE_FILE: join(dir, 'store'), CCP_DML_TEST_SCENARIO: 'mismatch' }))).map(lastJson);
    for (const o of results) assert.match(o.error, /the parameters of rank\(s\) 1 differ from rank 0's/);
  }),
);
