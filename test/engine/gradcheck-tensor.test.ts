// Gradient checks (float64) of reductions, matmul / linear, shape ops, joining / splitting, slicing,
// indexing (gather / scatter / index*), masking, repetition and triangular / diagonal ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, stack, matmul, linear, int64, tensor, toChannelsLast } from '../../src/engine/index.js';
import { gradcheck, rand64, distinct64, gradcheckCases as run } from '../helpers/tensors.js';

const pos = (shape: number[]) => rand64(shape, { low: 0.5, high: 1.5 });

// ---- reductions ----
run([
  ['sum()', (a) => a.sum(), () => [rand64([3, 4])]],
  ['sum(1)', (a) => a.sum(1), () => [rand64([3, 4])]],
  ['sum([0, 2], keepdim)', (a) => a.sum([0, 2], true), () => [rand64([2, 3, 4])]],
  ['sum(-1) of a broadcast product', (a, b) => a.mul(b).sum(-1), () => [rand64([3, 4]), rand64([4])]],
  ['mean()', (a) => a.mean(), () => [rand64([3, 4])]],
  ['mean(0, keepdim)', (a) => a.mean(0, true), () => [rand64([3, 4])]],
  ['mean([1, 2])', (a) => a.mean([1, 2]), () => [rand64([2, 3, 4])]],
  ['max()', (a) => a.max(), () => [distinct64([3, 4])]],
  ['max(1)', (a) => a.max(1), () => [distinct64([3, 4])]],
  ['max([0, 2], keepdim)', (a) => a.max([0, 2], true), () => [distinct64([2, 3, 4])]],
  ['min()', (a) => a.min(), () => [distinct64([3, 4])]],
  ['min(0, keepdim)', (a) => a.min(0, true), () => [distinct64([3, 4])]],
  ['maxWithIndices(1).values', (a) => a.maxWithIndices(1).values, () => [distinct64([3, 4])]],
  ['minWithIndices(0, keepdim).values', (a) => a.minWithIndices(0, true).values, () => [distinct64([3, 4])]],
  ['logsumexp(1)', (a) => a.logsumexp(1), () => [rand64([3, 4], { low: -3, high: 3 })]],
  ['logsumexp([0, 1], keepdim)', (a) => a.logsumexp([0, 1], true), () => [rand64([2, 3, 2])]],
  ['norm() (p=2, all)', (a) => a.norm(), () => [rand64([3, 4])]],
  ['norm(2, 1)', (a) => a.norm(2, 1), () => [rand64([3, 4])]],
  ['norm(1, 0, keepdim)', (a) => a.norm(1, 0, true), () => [rand64([3, 4], { minAbs: 0.1 })]],
  ['norm(3, -1)', (a) => a.norm(3, -1), () => [rand64([3, 4], { minAbs: 0.1 })]],
  ['variance() unbiased', (a) => a.variance(), () => [rand64([3, 4])]],
  ['variance(1, biased, keepdim)', (a) => a.variance(1, false, true), () => [rand64([3, 4])]],
  ['variance([0, 2])', (a) => a.variance([0, 2]), () => [rand64([2, 3, 4])]],
  ['std(1)', (a) => a.std(1), () => [rand64([3, 4])]],
  ['prod()', (a) => a.prod(), () => [pos([2, 3])]],
  ['prod(1)', (a) => a.prod(1), () => [rand64([3, 4], { minAbs: 0.3 })]],
  ['prod(0, keepdim)', (a) => a.prod(0, true), () => [rand64([3, 4], { minAbs: 0.3 })]],
  ['cumsum(0)', (a) => a.cumsum(0), () => [rand64([4, 3])]],
  ['cumsum(-1)', (a) => a.cumsum(-1).square(), () => [rand64([2, 5])]],
]);

// ---- matmul / linear ----
run([
  ['matmul 2-D', (a, b) => a.matmul(b), () => [rand64([3, 4]), rand64([4, 2])]],
  ['matmul batched [2,3,4] x [2,4,5]', (a, b) => matmul(a, b), () => [rand64([2, 3, 4]), rand64([2, 4, 5])]],
  ['matmul broadcast batch [2,3,4] x [4,2]', (a, b) => a.matmul(b), () => [rand64([2, 3, 4]), rand64([4, 2])]],
  ['matmul matrix x vector', (a, b) => a.matmul(b), () => [rand64([3, 4]), rand64([4])]],
  ['matmul vector x matrix', (a, b) => a.matmul(b), () => [rand64([4]), rand64([4, 3])]],
  ['matmul vector x vector', (a, b) => a.matmul(b), () => [rand64([5]), rand64([5])]],
  ['t()', (a, b) => a.t().matmul(b), () => [rand64([3, 4]), rand64([3, 2])]],
  ['linear with bias', (x, w, b) => linear(x, w, b), () => [rand64([5, 4]), rand64([3, 4]), rand64([3])]],
  ['linear without bias, 3-D input', (x, w) => linear(x, w), () => [rand64([2, 3, 4]), rand64([5, 4])]],
]);

// ---- shape ----
run([
  ['transpose', (a) => a.transpose(0, 2).mul(rand64([4, 3, 2], { seed: 1 })), () => [rand64([2, 3, 4])]],
  ['permute', (a) => a.permute([2, 0, 1]).cumsum(0), () => [rand64([2, 3, 4])]],
  ['reshape', (a) => a.reshape([4, -1]).cumsum(1), () => [rand64([2, 3, 4])]],
  ['reshape of a non-contiguous view', (a) => a.t().reshape([-1]).cumsum(0), () => [rand64([3, 4])]],
  ['expand', (a) => a.expand([3, 2, 4]).cumsum(0), () => [rand64([2, 1])]],
  ['squeeze()', (a) => a.squeeze().cumsum(0), () => [rand64([1, 3, 1])]],
  ['squeeze(dim)', (a) => a.squeeze(0).cumsum(1), () => [rand64([1, 3, 2])]],
  ['unsqueeze', (a) => a.unsqueeze(1).expand([3, 2]).cumsum(1), () => [rand64([3])]],
  ['flatten()', (a) => a.flatten().cumsum(0), () => [rand64([2, 3, 2])]],
  ['flatten(1)', (a) => a.flatten(1).cumsum(1), () => [rand64([2, 3, 2])]],
  ['contiguous / clone', (a) => a.t().contiguous().clone().cumsum(0), () => [rand64([3, 4])]],
]);

// ---- joining / splitting / slicing ----
run([
  ['cat dim 0', (a, b) => cat([a, b.square()]), () => [rand64([2, 3]), rand64([1, 3])]],
  ['cat dim 1', (a, b, c) => cat([a, b, c], 1), () => [rand64([2, 1]), rand64([2, 3]), rand64([2, 2])]],
  ['stack dim 0', (a, b) => stack([a, b.exp()]), () => [rand64([2, 3]), rand64([2, 3])]],
  ['stack dim -1', (a, b) => stack([a, b], -1).cumsum(-1), () => [rand64([2, 3]), rand64([2, 3])]],
  [
    'split',
    (a) => {
      const [p, q, r] = a.split(2, 1);
      return cat([p!.exp(), q!.mul(3), r!.square()], 1);
    },
    () => [rand64([2, 5])],
  ],
  ['slice with step', (a) => a.slice(1, 1, null, 2).square(), () => [rand64([3, 6])]],
  ['slice with negative bounds', (a) => a.slice(0, -3, -1), () => [rand64([5, 2])]],
  ['narrow', (a) => a.narrow(1, 1, 2).exp(), () => [rand64([3, 4])]],
  ['select', (a) => a.select(1, 2).square(), () => [rand64([3, 4])]],
  ['select negative index', (a) => a.select(0, -1), () => [rand64([3, 4])]],
]);

// ---- indexing ----
run([
  ['indexSelect with repeats', (a, i) => a.indexSelect(0, i).square(), () => [rand64([4, 3]), int64([3, 0, 3, 1])]],
  ['indexSelect dim 1', (a, i) => a.indexSelect(1, i), () => [rand64([2, 4]), int64([1, 1, 2])]],
  ['gather dim 1', (a, i) => a.gather(1, i).square(), () => [rand64([3, 4]), int64([0, 0, 3, 2, 1, 1], [3, 2])]],
  ['gather dim 0', (a, i) => a.gather(0, i), () => [rand64([3, 2]), int64([2, 0, 1, 1], [2, 2])]],
  ['scatterAdd (x and src)', (a, i, s) => a.scatterAdd(1, i, s).square(), () => [rand64([2, 4]), int64([0, 3, 0, 1, 1, 1], [2, 3]), rand64([2, 3])]],
  ['indexAdd (x and src, repeated index)', (a, i, s) => a.indexAdd(0, i, s).square(), () => [rand64([4, 2]), int64([1, 3, 1]), rand64([3, 2])]],
  ['scatter tensor src (x and src)', (a, i, s) => a.scatter(1, i, s).square(), () => [rand64([2, 4]), int64([2, 0, 3, 1], [2, 2]), rand64([2, 2])]],
  ['scatter scalar value', (a, i) => a.scatter(0, i, 0.5).square(), () => [rand64([3, 2]), int64([2, 0], [1, 2])]],
  [
    'maskedFill',
    (a, m) => a.maskedFill(m, -2).square(),
    () => [
      rand64([3, 4]),
      tensor(
        [
          [1, 0, 0, 1],
          [0, 0, 1, 0],
          [1, 1, 1, 1],
        ],
        undefined,
        { dtype: 'bool' },
      ),
    ],
  ],
  ['indexCopy (x outside the copied rows, and src)', (a, i, s) => a.indexCopy(0, i, s).square(), () => [rand64([4, 2]), int64([3, 0]), rand64([2, 2])]],
  [
    'maskedSelect',
    (a, m) => a.maskedSelect(m).exp(),
    () => [
      rand64([3, 4]),
      tensor(
        [
          [1, 0, 0, 1],
          [0, 0, 1, 0],
          [1, 1, 0, 1],
        ],
        undefined,
        { dtype: 'bool' },
      ),
    ],
  ],
  ['maskedFill broadcast mask', (a, m) => a.maskedFill(m, 0).exp(), () => [rand64([3, 4]), tensor([true, false, false, true])]],
]);

// ---- repetition / flips / triangles / diagonals ----
run([
  ['repeat', (a) => a.repeat([2, 3]).cumsum(1), () => [rand64([2, 2])]],
  ['repeat adding a dim', (a) => a.repeat([2, 1, 2]).cumsum(2), () => [rand64([3, 2])]],
  ['repeatInterleave dim 0', (a) => a.repeatInterleave(3, 0).cumsum(0), () => [rand64([2, 3])]],
  ['repeatInterleave dim 1', (a) => a.repeatInterleave(2, 1).cumsum(1), () => [rand64([2, 3])]],
  ['flip', (a) => a.flip([0, 1]).cumsum(0), () => [rand64([3, 4])]],
  ['tril', (a) => a.tril().square(), () => [rand64([4, 4])]],
  ['tril(-1)', (a) => a.tril(-1), () => [rand64([3, 4])]],
  ['triu(1)', (a) => a.triu(1).exp(), () => [rand64([4, 3])]],
  ['diag of a matrix', (a) => a.diag().square(), () => [rand64([4, 4])]],
  ['diag(1) of a matrix', (a) => a.diag(1), () => [rand64([3, 4])]],
  ['diag of a vector', (a) => a.diag().cumsum(0), () => [rand64([3])]],
  ['diagonal(0, 1, 2)', (a) => a.diagonal(0, 1, 2).square(), () => [rand64([2, 3, 3])]],
  ['diagonal(-1)', (a) => a.diagonal(-1), () => [rand64([4, 3])]],
]);

// ---- remainder (d/da = 1 away from the wrap points), channels_last layout ----
const clWeight = rand64([2, 3, 2, 2], { seed: 77 });
run([
  ['remainder by a scalar', (a) => a.remainder(0.7).square(), () => [tensor(Float64Array.from([0.1, 0.33, 1.0, 1.5, -0.2, -1.1]), [6], { dtype: 'float64' })]],
  ['toChannelsLast keeps values and gradients', (a) => toChannelsLast(a).mul(clWeight).sum([2, 3]), () => [rand64([2, 3, 2, 2])]],
]);

// ---- dtype casts keep the graph (float32 rounding: a larger step and tolerance) ----
test('grad: to(float32) and back', () => {
  assert.equal(
    gradcheck((a) => a.to('float32').mul(2).to('float64'), [rand64([3])], { eps: 1e-2, atol: 1e-4 }),
    true,
  );
});
