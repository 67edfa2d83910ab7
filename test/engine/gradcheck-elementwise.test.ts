// Gradient checks (float64, central differences) of elementwise ops: arithmetic with broadcasting and
// scalars on either side, unary math, activations, clamp and where.
import { test } from 'node:test';
import { scalar, tensor, where, type Tensor } from '../../src/engine/index.js';
import { rand64, assertClose, gradcheckCases as run } from '../helpers/tensors.js';

// ---- binary arithmetic with broadcasting ----
run([
  ['add [3,4] + [4]', (a, b) => a.add(b), () => [rand64([3, 4]), rand64([4])]],
  ['add [2,1,4] + [3,1]', (a, b) => a.add(b), () => [rand64([2, 1, 4]), rand64([3, 1])]],
  ['sub [3,1] - [1,4]', (a, b) => a.sub(b), () => [rand64([3, 1]), rand64([1, 4])]],
  ['mul [2,3,4] * [3,1]', (a, b) => a.mul(b), () => [rand64([2, 3, 4]), rand64([3, 1])]],
  ['mul by 0-d tensor', (a, b) => a.mul(b), () => [rand64([3, 2]), rand64([])]],
  ['div [3,4] / [4]', (a, b) => a.div(b), () => [rand64([3, 4]), rand64([4], { minAbs: 0.5 })]],
  ['div [4] / [3,4]', (a, b) => a.div(b), () => [rand64([4]), rand64([3, 4], { minAbs: 0.5 })]],
  ['pow tensor^tensor (broadcast)', (a, b) => a.pow(b), () => [rand64([3, 4], { low: 0.5, high: 2 }), rand64([4], { low: -2, high: 2 })]],
  ['maximum [3,4] vs [4]', (a, b) => a.maximum(b), () => [rand64([3, 4], { seed: 11 }), rand64([4], { seed: 12 })]],
  ['minimum [3,4] vs [3,1]', (a, b) => a.minimum(b), () => [rand64([3, 4], { seed: 13 }), rand64([3, 1], { seed: 14 })]],
]);

// ---- scalars on either side ----
run([
  ['x + 3', (a) => a.add(3), () => [rand64([5])]],
  ['x - 2', (a) => a.sub(2), () => [rand64([5])]],
  ['2 - x (rsub)', (a) => a.rsub(2).mul(a), () => [rand64([5])]],
  ['x * 3', (a) => a.mul(3), () => [rand64([5])]],
  ['x / 3', (a) => a.div(3), () => [rand64([5])]],
  ['3 / x (rdiv)', (a) => a.rdiv(3), () => [rand64([5], { minAbs: 0.3 })]],
  ['x ^ 3', (a) => a.pow(3), () => [rand64([5])]],
  ['x ^ 2.5 (x > 0)', (a) => a.pow(2.5), () => [rand64([5], { low: 0.2, high: 2 })]],
  ['x ^ -1.5 (x > 0)', (a) => a.pow(-1.5), () => [rand64([5], { low: 0.5, high: 2 })]],
  ['2 ^ x (0-d base)', (a) => scalar(2, { dtype: 'float64' }).pow(a), () => [rand64([5])]],
  ['maximum(x, 0.1)', (a) => a.maximum(0.1), () => [rand64([6], { seed: 5, minAbs: 0.3 })]],
  ['minimum(x, -0.1)', (a) => a.minimum(-0.1), () => [rand64([6], { seed: 6, minAbs: 0.3 })]],
]);

// ---- unary math ----
run([
  ['neg', (a) => a.neg(), () => [rand64([2, 3])]],
  ['abs', (a) => a.abs(), () => [rand64([2, 3], { minAbs: 0.1 })]],
  ['sqrt', (a) => a.sqrt(), () => [rand64([2, 3], { low: 0.2, high: 3 })]],
  ['rsqrt', (a) => a.rsqrt(), () => [rand64([2, 3], { low: 0.3, high: 3 })]],
  ['exp', (a) => a.exp(), () => [rand64([2, 3])]],
  ['log', (a) => a.log(), () => [rand64([2, 3], { low: 0.2, high: 3 })]],
  ['log1p', (a) => a.log1p(), () => [rand64([2, 3], { low: -0.7, high: 3 })]],
  ['expm1', (a) => a.expm1(), () => [rand64([2, 3])]],
  ['square', (a) => a.square(), () => [rand64([2, 3])]],
  ['reciprocal', (a) => a.reciprocal(), () => [rand64([2, 3], { minAbs: 0.3 })]],
  ['sin', (a) => a.sin(), () => [rand64([2, 3], { low: -3, high: 3 })]],
  ['cos', (a) => a.cos(), () => [rand64([2, 3], { low: -3, high: 3 })]],
  ['erf', (a) => a.erf(), () => [rand64([2, 3], { low: -2, high: 2 })]],
]);

// ---- activations ----
run([
  ['relu', (a) => a.relu(), () => [rand64([3, 4], { minAbs: 0.05 })]],
  ['sigmoid', (a) => a.sigmoid(), () => [rand64([3, 4], { low: -4, high: 4 })]],
  ['tanh', (a) => a.tanh(), () => [rand64([3, 4], { low: -2, high: 2 })]],
  ['gelu', (a) => a.gelu(), () => [rand64([3, 4], { low: -3, high: 3 })]],
  ['softplus (default)', (a) => a.softplus(), () => [rand64([3, 4], { low: -4, high: 4 })]],
  ['softplus (beta=2, threshold=3)', (a) => a.softplus(2, 3), () => [rand64([3, 4], { low: -3, high: 3 })]],
  ['leakyRelu (0.01)', (a) => a.leakyRelu(), () => [rand64([3, 4], { minAbs: 0.05 })]],
  ['leakyRelu (0.2)', (a) => a.leakyRelu(0.2), () => [rand64([3, 4], { minAbs: 0.05 })]],
]);

// ---- clamp / where ----
function tensorOf(d: number[]): Tensor {
  return tensor(Float64Array.from(d), [d.length], { dtype: 'float64' });
}
/** Uniform in [-1.5, 1.5], nudged at least 0.05 away from every boundary in `bounds`. */
function awayFrom(bounds: number[], shape: number[], seed: number): Tensor {
  const d = rand64([shape.reduce((a, b) => a * b, 1)], { low: -1.5, high: 1.5, seed })
    .toArray()
    .map((v) => {
      for (const b of bounds) if (Math.abs(v - b) < 0.05) v = b + (v < b ? -0.05 : 0.05);
      return v;
    });
  return tensorOf(d).reshape(shape);
}

run([
  ['clamp(-0.5, 0.5)', (a) => a.clamp(-0.5, 0.5), () => [awayFrom([-0.5, 0.5], [3, 4], 21)]],
  ['clampMin(0.2)', (a) => a.clampMin(0.2), () => [awayFrom([0.2], [8], 22)]],
  ['clampMax(-0.2)', (a) => a.clampMax(-0.2), () => [awayFrom([-0.2], [8], 23)]],
  ['where(cond, a, b) with broadcasting', (a, b) => where(a.gt(0.1), a, b), () => [awayFrom([0.1], [3, 4], 24), rand64([4])]],
  ['where(cond, a, scalar)', (a) => where(a.lt(0), a.square(), 0.5), () => [rand64([3, 4], { minAbs: 0.05 })]],
  ['Tensor.where(cond, other)', (a, b) => a.where(b.gt(0), b.mul(2)), () => [rand64([3, 4]), rand64([3, 4], { minAbs: 0.05 })]],
]);

test('grad values: clamp passes gradient only inside the range; relu / abs known values', () => {
  const x = tensorOf([-2, -0.25, 0.25, 2]).requireGrad();
  x.clamp(-1, 1).sum().backward();
  assertClose(x.grad!, [0, 1, 1, 0]);
  const y = tensorOf([-2, 3]).requireGrad();
  y.abs()
    .mul(tensorOf([1, 1]))
    .add(y.relu())
    .sum()
    .backward();
  assertClose(y.grad!, [-1, 2]);
});
