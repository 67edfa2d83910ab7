import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, int64, tidy, noGrad, keep, allclose, type Tensor } from '../../src/engine/index.js';
import type { MetricLoss } from '../../src/losses/types.js';
import { ccp, isCcpLoss, resolveCcpOptions, CCP_DEFAULTS, lambdaAt, type CcpOptionsInput } from '../../src/ccp/index.js';
import { PairDouble, pairDoubleReference, rowsOf } from './doubles.js';

const X = [
  [1, 2, 0],
  [0.5, -1, 1],
  [2, 0, 1],
  [-1, 1, 1],
  [0, 0, 2],
];
const Y = [0, 0, 1, 1, 2];
const P = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, 1, 0],
  [0, 1, 1],
  [1, 0, 1],
]; // K = 2, C = 3: rows r·3 + c

test('CcpLoss value = 0.1·base(X, X) + 1.0·base(X, P) with proxy labels [0..C−1] × K', () => {
  const base = new PairDouble();
  const loss = ccp(base, { numClasses: 3, dim: 3, proxiesPerClass: 2 });
  try {
    assert.equal(loss.name, 'ccp/pair-double');
    assert.equal(isCcpLoss(loss), true);
    assert.deepEqual(loss.proxyLabels.toArray(), [0, 1, 2, 0, 1, 2]);
    loss.proxySet.assign(tensor(P));
    const value = tidy(() => loss.forward(tensor(X), int64(Y)).item());
    const expected = 0.1 * pairDoubleReference(X, Y) + 1.0 * pairDoubleReference(X, Y, P, [0, 1, 2, 0, 1, 2]);
    assert.ok(Math.abs(value - expected) < 1e-4 * Math.max(1, Math.abs(expected)), `${value} vs ${expected}`);
    assert.deepEqual(
      base.calls.map((c) => c.withRef),
      [false, true],
    );
  } finally {
    loss.dispose();
  }
});

test('weights: batchWeight = 0 skips the in-batch term; custom weights are applied', () => {
  const base = new PairDouble();
  const loss = ccp(base, { numClasses: 3, dim: 3, proxiesPerClass: 2, batchWeight: 0, proxyWeight: 2 });
  try {
    loss.proxySet.assign(tensor(P));
    const value = tidy(() => loss.forward(tensor(X), int64(Y)).item());
    const expected = 2 * pairDoubleReference(X, Y, P, [0, 1, 2, 0, 1, 2]);
    assert.ok(Math.abs(value - expected) < 1e-4 * Math.abs(expected));
    assert.deepEqual(
      base.calls.map((c) => c.withRef),
      [true],
    );
  } finally {
    loss.dispose();
  }
});

test('weights: proxyWeight = 0 keeps only the in-batch term; both 0 give a zero loss without error', () => {
  const base = new PairDouble();
  const batchOnly = ccp(base, { numClasses: 3, dim: 3, proxiesPerClass: 2, batchWeight: 1, proxyWeight: 0 });
  const none = ccp(new PairDouble(), { numClasses: 3, dim: 3, proxiesPerClass: 2, batchWeight: 0, proxyWeight: 0 });
  try {
    const value = tidy(() => batchOnly.forward(tensor(X), int64(Y)).item());
    const expected = pairDoubleReference(X, Y);
    assert.ok(Math.abs(value - expected) < 1e-4 * Math.abs(expected));
    assert.deepEqual(
      base.calls.map((c) => c.withRef),
      [false],
    );
    none.proxySet.assign(tensor(P));
    assert.ok(tidy(() => none.forward(tensor(X), int64(Y)).item()) === 0); // ±0
  } finally {
    batchOnly.dispose();
    none.dispose();
  }
});

test('parameters() = [P]; gradients reach P and match the proxy term’s gradient', () => {
  const loss = ccp(new PairDouble(), { numClasses: 3, dim: 3, proxiesPerClass: 2 });
  try {
    assert.deepEqual(loss.parameters(), [loss.proxies]);
    assert.equal(loss.parameterLrMultiplier, 1);
    loss.proxySet.assign(tensor(P));
    const x = keep(tensor(X)).requireGrad(true);
    tidy(() => loss.forward(x, int64(Y)).backward());
    const gP = keep(loss.proxies.grad!.clone());
    // Same gradient from the proxy term alone on an independent copy of P.
    const p2 = keep(tensor(P)).requireGrad(true);
    tidy(() => new PairDouble().forward(tensor(X), int64(Y), { embeddings: p2, labels: loss.proxyLabels }).backward());
    assert.ok(tidy(() => allclose(gP, p2.grad!, 1e-5, 1e-6)));
    assert.ok(x.grad !== null);
    [x, gP, p2].forEach((t) => t.dispose());
  } finally {
    loss.dispose();
  }
});

test('stateDict / loadStateDict of the loss carry P and P_best', () => {
  const a = ccp(new PairDouble(), { numClasses: 3, dim: 3, proxiesPerClass: 2 });
  const b = ccp(new PairDouble(), { numClasses: 3, dim: 3, proxiesPerClass: 2 });
  try {
    a.proxySet.assign(tensor(P));
    a.proxySet.snapshotBest();
    const state = a.stateDict();
    b.loadStateDict({ proxies: state.proxies!.detach().clone(), proxies_best: state.proxies_best!.clone() });
    assert.deepEqual(rowsOf(b.proxies.detach()), P);
    assert.deepEqual(rowsOf(b.proxySet.best), P);
    assert.equal(b.proxies.requiresGrad, true);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('options: defaults, presets small / large, overrides and validation', () => {
  assert.deepEqual(resolveCcpOptions(), { ...CCP_DEFAULTS });
  assert.deepEqual(
    [
      CCP_DEFAULTS.proxiesPerClass,
      CCP_DEFAULTS.poolSize,
      CCP_DEFAULTS.lambda,
      CCP_DEFAULTS.decay,
      CCP_DEFAULTS.patience,
      CCP_DEFAULTS.minIterations,
      CCP_DEFAULTS.batchWeight,
      CCP_DEFAULTS.proxyWeight,
      CCP_DEFAULTS.minDelta,
      CCP_DEFAULTS.laggedMetric,
      CCP_DEFAULTS.projections,
      CCP_DEFAULTS.poolPreprocessing,
    ],
    [8, 12, 2e-4, 1.0, 3, 1, 0.1, 1.0, 1e-5, false, true, 'train'],
  );
  const small = resolveCcpOptions({ preset: 'small' });
  assert.deepEqual([small.proxiesPerClass, small.poolSize], [8, 12]);
  const large = resolveCcpOptions({ preset: 'large', lambda: 1e-3, proxiesPerClass: undefined });
  assert.deepEqual([large.proxiesPerClass, large.poolSize, large.lambda], [4, 7, 1e-3]);
  assert.deepEqual(resolveCcpOptions({ preset: 'large', poolSize: 9 }).poolSize, 9); // explicit beats preset
  assert.throws(() => resolveCcpOptions({ proxiesPerClass: 0 }), /option proxiesPerClass: .*got 0/);
  assert.throws(() => resolveCcpOptions({ proxiesPerClass: 2.5 }), /proxiesPerClass/);
  assert.throws(() => resolveCcpOptions({ lambda: -1 }), /option lambda: .*got -1/);
  assert.throws(() => resolveCcpOptions({ lambda: Number.NaN }), /lambda/);
  assert.throws(() => resolveCcpOptions({ laggedMetric: 'yes' as unknown as boolean }), /laggedMetric/);
  assert.throws(() => resolveCcpOptions({ projections: 0 as unknown as boolean }), /option projections: .*got 0/);
  assert.throws(() => resolveCcpOptions({ poolPreprocessing: 'eval' as 'test' }), /option poolPreprocessing: .*got eval/);
  assert.equal(resolveCcpOptions({ poolPreprocessing: 'test' }).poolPreprocessing, 'test');
  assert.throws(() => resolveCcpOptions({ preset: 'huge' as 'small' }), /unknown preset 'huge'/);
  assert.throws(() => resolveCcpOptions({ K: 4 } as CcpOptionsInput), /unknown option\(s\) 'K'/);
  assert.equal(lambdaAt(0, CCP_DEFAULTS), 0);
  assert.equal(lambdaAt(1, CCP_DEFAULTS), 2e-4);
  assert.equal(lambdaAt(3, { lambda: 1, decay: 0.5 }), 0.125);
  const loss = ccp(new PairDouble(), { numClasses: 5, dim: 4, preset: 'large' });
  try {
    assert.deepEqual(loss.proxies.shape, [20, 4]);
  } finally {
    loss.dispose();
  }
});

test('ccp() refuses losses that do not compare against a reference set', () => {
  const proxyLoss: MetricLoss = {
    name: 'proxy-double',
    acceptsReference: false,
    forward: (x: Tensor) => x.sum(),
    parameters: () => [],
  } as MetricLoss;
  assert.throws(() => ccp(proxyLoss, { numClasses: 2, dim: 2 }), /pair-based/);
  const loss = ccp(new PairDouble(), { numClasses: 2, dim: 3 });
  try {
    assert.throws(() => noGrad(() => loss.forward(tensor([[1, 2]]), int64([0]))), /\[B, 3\]/);
  } finally {
    loss.dispose();
  }
});
