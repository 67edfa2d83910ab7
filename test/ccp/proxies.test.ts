import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, manualSeed, zeros } from '../../src/engine/index.js';
import { CcpProxySet, proxyLabels, proxyClass, proxyIndexInClass, proxyRow, initialProxies, greedyKCenter } from '../../src/ccp/index.js';

test('proxy labels are [0..C−1] repeated K times; row r is proxy floor(r/C) of class r mod C', () => {
  tidy(() => assert.deepEqual(proxyLabels(3, 2).toArray(), [0, 1, 2, 0, 1, 2]));
  assert.equal(proxyLabels(3, 2).dtype, 'int64');
  assert.equal(proxyClass(7, 3), 1);
  assert.equal(proxyIndexInClass(7, 3), 2);
  assert.equal(proxyRow(1, 2, 3), 7);
});

test('CcpProxySet: P learnable and He-normal, P_best zeros, labels laid out', () => {
  manualSeed(1);
  const ps = new CcpProxySet(50, 4, 32);
  try {
    assert.deepEqual(ps.proxies.shape, [200, 32]);
    assert.equal(ps.proxies.requiresGrad, true);
    assert.equal(ps.proxies.isLeaf, true);
    assert.equal(ps.best.requiresGrad, false);
    assert.equal(
      tidy(() => ps.best.abs().sum().item()),
      0,
    );
    assert.deepEqual(ps.labels.toArray().slice(48, 53), [48, 49, 0, 1, 2]);
    // He-normal (Keras): truncated at 2σ_raw, with std ≈ sqrt(2 / fan_in), fan_in = K·C = 200.
    const std = tidy(() => ps.proxies.detach().std().item());
    assert.ok(Math.abs(std - Math.sqrt(2 / 200)) < 0.01 * 1.5, `std ${std}`);
    const bound = (2 * Math.sqrt(2 / 200)) / 0.87962566103423978;
    assert.ok(tidy(() => ps.proxies.detach().abs().max().item()) <= bound + 1e-6);
  } finally {
    ps.dispose();
  }
});

test('initialProxies (He-normal): standard deviation and truncation on a large draw', () => {
  manualSeed(2);
  tidy(() => {
    const w = initialProxies(100, 400, { dtype: 'float64' });
    const target = Math.sqrt(2 / 100);
    assert.ok(Math.abs(w.std().item() / target - 1) < 0.02, `std ratio ${w.std().item() / target}`);
    assert.ok(w.abs().max().item() <= (2 * target) / 0.87962566103423978 + 1e-12);
  });
});

test('assign / classMajor: class-major values land in rows r·C + c', () => {
  const ps = new CcpProxySet(3, 2, 1);
  try {
    tidy(() => {
      // value 10·c + r for proxy r of class c
      ps.assign(
        tensor([
          [[0], [1]],
          [[10], [11]],
          [[20], [21]],
        ]),
      );
      assert.deepEqual(ps.proxies.detach().toArray(), [0, 10, 20, 1, 11, 21]);
      assert.deepEqual(ps.classMajor().toArray(), [0, 1, 10, 11, 20, 21]);
      for (let r = 0; r < 6; r++) assert.equal(Math.floor(ps.proxies.detach().toArray()[r]! / 10), ps.labels.toArray()[r]);
    });
  } finally {
    ps.dispose();
  }
});

test('reinitialize writes KCENTER(pool, P_best) into the same P tensor; snapshotBest copies', () => {
  manualSeed(5);
  const ps = new CcpProxySet(2, 2, 2);
  try {
    const handle = ps.proxies;
    tidy(() => {
      const pool = tensor([
        [
          [0, 0],
          [3, 4],
          [1, 1],
          [-3, -4],
        ],
        [
          [1, 0],
          [0, 2],
          [0, -1],
          [0, 0],
        ],
      ]);
      ps.reinitialize(pool, 12);
      assert.equal(ps.proxies, handle);
      assert.equal(ps.proxies.requiresGrad, true);
      assert.deepEqual(ps.proxies.detach().toArray(), greedyKCenter(pool, zeros([2, 2, 2]), 2).toArray());
      ps.snapshotBest();
      assert.deepEqual(ps.best.toArray(), ps.proxies.detach().toArray());
      // The next re-initialisation is seeded by P_best = {(3,4), (-3,-4)} for class 0:
      // m = [25 for (0,0), 0, min(13, 41) = 13 for (1,1), 0] → (0,0) first, then (1,1).
      ps.reinitialize(pool, 12);
      assert.deepEqual(ps.classMajor().select(0, 0).toArray(), [0, 0, 1, 1]);
      assert.throws(() => ps.reinitialize(zeros([3, 4, 2]), 12), /pool must be \[2, b', 2\]/);
    });
  } finally {
    ps.dispose();
  }
});
