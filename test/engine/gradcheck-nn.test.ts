// Gradient checks (float64) of the neural-network ops: softmax family, losses, convolution,
// normalisation, pooling, dropout and L_p normalisation. Also value checks where the gradient alone would
// not catch a wrong forward (running statistics, dropout masks, pooled values).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  crossEntropy,
  mseLoss,
  conv2d,
  batchNorm,
  layerNorm,
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  dropout,
  normalize,
  manualSeed,
  int64,
  tensor,
  zeros,
  ones,
  tidy,
} from '../../src/engine/index.js';
import { gradcheck, rand64, distinct64, assertClose, gradcheckCases as run } from '../helpers/tensors.js';

// ---- softmax family and losses ----
run([
  ['softmax(1)', (a) => a.softmax(1), () => [rand64([3, 4], { low: -2, high: 2 })]],
  ['softmax(0)', (a) => a.softmax(0), () => [rand64([3, 4], { low: -2, high: 2 })]],
  ['logSoftmax(-1)', (a) => a.logSoftmax(-1), () => [rand64([2, 3, 4], { low: -2, high: 2 })]],
  ['crossEntropy mean', (l, t) => crossEntropy(l, t), () => [rand64([4, 5], { low: -2, high: 2 }), int64([0, 4, 2, 2])]],
  ['crossEntropy sum', (l, t) => crossEntropy(l, t, { reduction: 'sum' }), () => [rand64([4, 5], { low: -2, high: 2 }), int64([1, 3, 0, 4])]],
  ['crossEntropy none', (l, t) => crossEntropy(l, t, { reduction: 'none' }), () => [rand64([4, 5], { low: -2, high: 2 }), int64([1, 3, 0, 4])]],
  [
    'crossEntropy label smoothing 0.1',
    (l, t) => crossEntropy(l, t, { labelSmoothing: 0.1 }),
    () => [rand64([4, 5], { low: -2, high: 2 }), int64([0, 4, 2, 2])],
  ],
  ['crossEntropy label smoothing 0.3, sum', (l, t) => crossEntropy(l, t, { labelSmoothing: 0.3, reduction: 'sum' }), () => [rand64([3, 4]), int64([3, 0, 1])]],
  ['crossEntropy ignoreIndex', (l, t) => crossEntropy(l, t, { ignoreIndex: -1 }), () => [rand64([4, 3]), int64([0, -1, 2, -1])]],
  ['crossEntropy [N, C, d] targets', (l, t) => crossEntropy(l, t), () => [rand64([2, 3, 4]), int64([0, 1, 2, 0, 2, 2, 1, 0], [2, 4])]],
  ['mseLoss mean (both sides)', (a, b) => mseLoss(a, b), () => [rand64([3, 4]), rand64([3, 4])]],
  ['mseLoss sum', (a, b) => mseLoss(a, b, 'sum'), () => [rand64([3, 4]), rand64([3, 4])]],
  ['mseLoss none', (a, b) => mseLoss(a, b, 'none'), () => [rand64([5]), rand64([5])]],
]);

test('grad: crossEntropy with class-probability targets (logits)', () => {
  const target = rand64([3, 4], { low: 0, high: 1 }).softmax(1);
  assert.equal(
    gradcheck((l, p) => crossEntropy(l, p), [rand64([3, 4]), target], { checkInputs: [true, false] }),
    true,
  );
});

test('values: crossEntropy with label smoothing matches the hand formula', () => {
  tidy(() => {
    const logits = tensor(
      [
        [1, 2, 0.5],
        [0.1, -1, 3],
      ],
      undefined,
      { dtype: 'float64' },
    );
    const target = int64([1, 2]);
    const eps = 0.2;
    const lp = logits.logSoftmax(1).toArray();
    const C = 3;
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      const row = lp.slice(i * C, i * C + C);
      const t = [1, 2][i]!;
      expected += -(1 - eps) * row[t]! - (eps / C) * row.reduce((a, b) => a + b, 0);
    }
    assertClose([crossEntropy(logits, target, { labelSmoothing: eps }).item()], [expected / 2], { atol: 1e-12 });
    // ignored rows do not count in the mean
    const ig = crossEntropy(logits, int64([1, -100])).item();
    assertClose([ig], [-lp[1]!], { atol: 1e-12 });
  });
});

// ---- convolution ----
run([
  ['conv2d plain with bias', (x, w, b) => conv2d(x, w, b), () => [rand64([2, 2, 5, 5]), rand64([3, 2, 3, 3]), rand64([3])]],
  ['conv2d stride 2, padding 1, no bias', (x, w) => conv2d(x, w, null, { stride: 2, padding: 1 }), () => [rand64([1, 2, 6, 5]), rand64([2, 2, 3, 3])]],
  ['conv2d dilation 2', (x, w, b) => conv2d(x, w, b, { dilation: 2, padding: 2 }), () => [rand64([1, 2, 6, 6]), rand64([2, 2, 3, 3]), rand64([2])]],
  ['conv2d groups 2', (x, w, b) => conv2d(x, w, b, { groups: 2 }), () => [rand64([2, 4, 4, 4]), rand64([4, 2, 3, 3]), rand64([4])]],
  [
    'conv2d asymmetric stride / padding / kernel',
    (x, w) => conv2d(x, w, null, { stride: [2, 1], padding: [0, 1] }),
    () => [rand64([1, 2, 5, 4]), rand64([2, 2, 3, 2])],
  ],
  ['conv2d depthwise (groups = channels)', (x, w) => conv2d(x, w, null, { groups: 3, padding: 1 }), () => [rand64([1, 3, 4, 4]), rand64([3, 1, 3, 3])]],
]);

test('values: conv2d of a 1x1 kernel is a channel mix; a 3x3 ones kernel sums neighbourhoods', () => {
  tidy(() => {
    const x = tensor(
      [
        [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [10, 20],
            [30, 40],
          ],
        ],
      ],
      undefined,
      { dtype: 'float64' },
    ); // [1, 2, 2, 2]
    const w = tensor([[[[2]], [[0.5]]]], undefined, { dtype: 'float64' }); // [1, 2, 1, 1]
    assertClose(conv2d(x, w), [7, 14, 21, 28], { shape: [1, 1, 2, 2] });
    const y = conv2d(x.narrow(1, 0, 1), ones([1, 1, 3, 3], { dtype: 'float64' }), null, { padding: 1 });
    assertClose(y, [10, 10, 10, 10], { shape: [1, 1, 2, 2] });
  });
});

// ---- normalisation ----
// Running statistics of the frozen batch-norm case: constants (created outside any tidy scope).
const rmConst = tensor([0.3, -0.2], undefined, { dtype: 'float64' });
const rvConst = tensor([1.5, 0.5], undefined, { dtype: 'float64' });
run([
  ['batchNorm training, no affine, 4-D', (x) => batchNorm(x, null, null, { training: true }), () => [rand64([3, 2, 2, 2])]],
  [
    'batchNorm training, affine, 4-D',
    (x, w, b) => batchNorm(x, null, null, { training: true, weight: w, bias: b }),
    () => [rand64([3, 2, 2, 2]), rand64([2]), rand64([2])],
  ],
  [
    'batchNorm training, affine, 2-D',
    (x, w, b) => batchNorm(x, null, null, { training: true, weight: w, bias: b, eps: 1e-3 }),
    () => [rand64([5, 3]), rand64([3]), rand64([3])],
  ],
  [
    'batchNorm frozen (inference, running stats)',
    (x, w, b) => batchNorm(x, rmConst, rvConst, { training: false, weight: w, bias: b }),
    () => [rand64([3, 2, 2, 2]), rand64([2]), rand64([2])],
  ],
  ['layerNorm last dim, affine', (x, w, b) => layerNorm(x, [4], w, b), () => [rand64([3, 4]), rand64([4]), rand64([4])]],
  ['layerNorm last two dims, no affine', (x) => layerNorm(x, [2, 3]), () => [rand64([2, 2, 3])]],
]);

test('values: batchNorm training normalises with biased batch variance and updates running stats (unbiased)', () => {
  tidy(() => {
    const x = tensor(
      [
        [1, 10],
        [2, 20],
        [6, 60],
      ],
      undefined,
      { dtype: 'float64' },
    ); // [3, 2]
    const rm = zeros([2], { dtype: 'float64' });
    const rv = ones([2], { dtype: 'float64' });
    const y = batchNorm(x, rm, rv, { training: true, momentum: 0.1, eps: 0 });
    const mean = 3;
    const varB = ((1 - 3) ** 2 + (2 - 3) ** 2 + (6 - 3) ** 2) / 3; // 14/3
    const col0 = [1, 2, 6].map((v) => (v - mean) / Math.sqrt(varB));
    assertClose(y.select(1, 0), col0, { atol: 1e-9 });
    assertClose(y.select(1, 1), col0, { atol: 1e-9 });
    assertClose(rm, [0.1 * 3, 0.1 * 30], { atol: 1e-12 });
    const varU0 = 14 / 2;
    assertClose(rv, [0.9 + 0.1 * varU0, 0.9 + 0.1 * varU0 * 100], { atol: 1e-9 });
    // Frozen: uses the running statistics, leaves them alone.
    const z = batchNorm(x, rm, rv, { training: false, eps: 0 });
    assertClose(
      z.select(1, 0),
      [1, 2, 6].map((v) => (v - 0.3) / Math.sqrt(0.9 + 0.7)),
      { atol: 1e-9 },
    );
    assertClose(rm, [0.3, 3], { atol: 1e-12 });
  });
});

test('grad: batchNorm training with running buffers attached still checks', () => {
  const rm = zeros([2], { dtype: 'float64' });
  const rv = ones([2], { dtype: 'float64' });
  assert.equal(
    gradcheck((x) => batchNorm(x, rm, rv, { training: true }), [rand64([4, 2, 2, 1])]),
    true,
  );
});

// ---- pooling ----
run([
  ['maxPool2d 2x2', (x) => maxPool2d(x, 2), () => [distinct64([2, 2, 4, 4])]],
  ['maxPool2d 3x3 stride 1 padding 1 (overlapping)', (x) => maxPool2d(x, 3, { stride: 1, padding: 1 }), () => [distinct64([1, 2, 4, 4])]],
  ['maxPool2d 2x2 ceilMode on 5x5', (x) => maxPool2d(x, 2, { stride: 2, ceilMode: true, dilation: 1 }), () => [distinct64([1, 1, 5, 5])]],
  ['maxPool2d dilation 2', (x) => maxPool2d(x, 2, { stride: 1, dilation: 2 }), () => [distinct64([1, 1, 5, 5])]],
  ['avgPool2d 2x2', (x) => avgPool2d(x, 2), () => [rand64([2, 2, 4, 4])]],
  [
    'avgPool2d 3x3 stride 2 padding 1, countIncludePad=false',
    (x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
    () => [rand64([1, 2, 5, 5])],
  ],
  ['avgPool2d ceilMode', (x) => avgPool2d(x, 2, { ceilMode: true }), () => [rand64([1, 1, 5, 5])]],
  ['adaptiveAvgPool2d 1', (x) => adaptiveAvgPool2d(x, 1), () => [rand64([2, 3, 3, 4])]],
  ['adaptiveAvgPool2d [2, 3] of 5x7', (x) => adaptiveAvgPool2d(x, [2, 3]), () => [rand64([1, 2, 5, 7])]],
  ['adaptiveMaxPool2d 1', (x) => adaptiveMaxPool2d(x, 1), () => [distinct64([2, 2, 3, 3])]],
  ['adaptiveMaxPool2d [2, 2] of 5x5', (x) => adaptiveMaxPool2d(x, [2, 2]), () => [distinct64([1, 2, 5, 5])]],
]);

test('values: pooling', () => {
  tidy(() => {
    const x = tensor(
      [
        [
          [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
            [9, 10, 11, 12],
            [13, 14, 15, 16],
          ],
        ],
      ],
      undefined,
      { dtype: 'float64' },
    );
    assertClose(maxPool2d(x, 2), [6, 8, 14, 16], { shape: [1, 1, 2, 2] });
    assertClose(avgPool2d(x, 2), [3.5, 5.5, 11.5, 13.5], { shape: [1, 1, 2, 2] });
    assertClose(adaptiveAvgPool2d(x, 1), [8.5], { shape: [1, 1, 1, 1] });
    assertClose(adaptiveMaxPool2d(x, [1, 2]), [14, 16], { shape: [1, 1, 1, 2] });
    // padding 1, countIncludePad false: the corner window averages the 4 real values
    assertClose(avgPool2d(x, 3, { stride: 3, padding: 1, countIncludePad: false }).select(3, 0).select(2, 0), [(1 + 2 + 5 + 6) / 4]);
  });
});

// ---- dropout / normalize ----
test('grad: dropout gradient equals mask / (1 - p) under a fixed seed', () => {
  const p = 0.3;
  const x = rand64([40, 50], { minAbs: 0.1 }).requireGrad();
  manualSeed(123);
  const y = dropout(x, p);
  y.sum().backward();
  const g = x.grad!.toArray();
  const yv = y.toArray();
  const xv = x.toArray();
  let zeros = 0;
  for (let i = 0; i < g.length; i++) {
    const kept = yv[i] !== 0;
    if (!kept) zeros++;
    assert.ok(Math.abs(g[i]! - (kept ? 1 / (1 - p) : 0)) < 1e-12, `grad[${i}] = ${g[i]}`);
    if (kept) assert.ok(Math.abs(yv[i]! - xv[i]! / (1 - p)) < 1e-12);
  }
  const frac = zeros / g.length;
  assert.ok(Math.abs(frac - p) < 0.05, `dropped fraction ${frac}`);
  // Same seed, same mask.
  manualSeed(123);
  const y2 = dropout(x.detach(), p);
  assert.deepEqual(y2.toArray(), yv);
  // A seeded dropout is deterministic, so the finite-difference check applies too.
  assert.equal(
    gradcheck(
      (a) => {
        manualSeed(5);
        return dropout(a, 0.5);
      },
      [rand64([4, 5])],
    ),
    true,
  );
});

test('dropout: identity when not training or p = 0', () => {
  tidy(() => {
    const x = rand64([3, 4]).requireGrad();
    const y = dropout(x, 0.5, false);
    assert.deepEqual(y.toArray(), x.toArray());
    y.sum().backward();
    assertClose(x.grad!, new Array(12).fill(1));
    assert.deepEqual(dropout(x, 0).toArray(), x.toArray());
  });
});

run([
  ['normalize p=2 dim -1', (a) => normalize(a), () => [rand64([3, 4])]],
  ['normalize p=2 dim 0', (a) => normalize(a, 2, 0), () => [rand64([3, 4])]],
  ['normalize p=1 dim 1', (a) => normalize(a, 1, 1), () => [rand64([3, 4], { minAbs: 0.1 })]],
]);

test('values: normalize gives unit rows and handles a zero row via eps', () => {
  tidy(() => {
    const x = tensor(
      [
        [3, 4],
        [0, 0],
      ],
      undefined,
      { dtype: 'float64' },
    );
    assertClose(normalize(x), [0.6, 0.8, 0, 0]);
  });
});
