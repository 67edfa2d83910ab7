// Shared machinery: N(v) forward/backward in both regimes, the zero-distance gradient rule, masks, reducers,
// masked log-sum-exp, and finite-difference gradient checks.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, manualSeed, randn, int64, noGrad } from '../../src/engine/index.js';
import { gradcheck } from '../../src/engine/testing/index.js';
import {
  lipschitzNormalize,
  l2Normalize,
  normalizeEmbeddings,
  euclideanDistance,
  similarityMatrix,
  safeSqrt,
  pairMasks,
  meanOfActive,
  meanReducer,
  sumReducer,
  reduceTerms,
  maskedLog1pSumExp,
  maskedLogSumExp,
} from '../../src/losses/index.js';
import { f64, assertClose } from './helpers.js';

describe('N(v): Lipschitz normalisation', () => {
  test('norm > 1 is projected to the unit sphere, with the projected gradient (g - <N,g>N)/||v||', () => {
    tidy(() => {
      const v = f64([[3, 4]]).requireGrad();
      const out = lipschitzNormalize(v);
      assertClose(out, [0.6, 0.8], 'N((3,4))', 1e-15);
      out.backward(f64([[1, 0]]));
      // ((1,0) - 0.6 (0.6, 0.8)) / 5 = (0.128, -0.096)
      assertClose(v.grad!, [0.128, -0.096], 'gradient of N at (3,4)', 1e-15);
    });
  });

  test('norm <= 1 is the identity, forward and backward (also at 0 and exactly 1)', () => {
    tidy(() => {
      const v = f64([
        [0.3, 0.4],
        [0, 0],
        [0.6, 0.8],
      ]).requireGrad();
      const out = lipschitzNormalize(v);
      assertClose(out, [0.3, 0.4, 0, 0, 0.6, 0.8], 'N identity', 1e-15);
      out.backward(
        f64([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      );
      assertClose(v.grad!, [1, 2, 3, 4, 5, 6], 'identity gradient', 1e-15);
    });
  });

  test('the customOp backward is used on CPU and agrees with the autograd formulation', () => {
    tidy(() => {
      const v = f64([
        [0.2, 0.1],
        [2, -1],
      ]).requireGrad();
      assert.equal(lipschitzNormalize(v).gradFnName, 'JsCustomBackward');
      assert.notEqual(lipschitzNormalize(v, { impl: 'autograd' }).gradFnName, 'JsCustomBackward');
    });
  });

  test('a backward() after the creating tidy scope ended still works (saved tensors are kept)', () => {
    const v = f64([
      [2, 0],
      [0.5, 0],
    ]).requireGrad();
    const loss = tidy(() =>
      lipschitzNormalize(v)
        .mul(
          f64([
            [1, 1],
            [1, 1],
          ]),
        )
        .sum(),
    );
    loss.backward();
    assertClose(v.grad!, [0, 0.5, 1, 1], 'gradient after scope');
  });

  test('finite differences in both regimes (custom and autograd)', () => {
    tidy(() => {
      manualSeed(3);
      const v = randn([6, 4], { dtype: 'float64' }).mul(f64([[0.1], [0.3], [0.45], [0.7], [1.5], [3]]));
      for (const impl of ['custom', 'autograd'] as const) gradcheck((x) => lipschitzNormalize(x, { impl }), [v], { name: `N ${impl}` });
      gradcheck((x) => l2Normalize(x), [v], { name: 'l2' });
    });
  });

  test('normalizeEmbeddings modes and error', () => {
    tidy(() => {
      const v = f64([
        [0.3, 0.4],
        [3, 4],
      ]);
      assertClose(normalizeEmbeddings(v, 'lipschitz'), [0.3, 0.4, 0.6, 0.8], 'lipschitz');
      assertClose(normalizeEmbeddings(v, 'l2'), [0.6, 0.8, 0.6, 0.8], 'l2');
      assertClose(normalizeEmbeddings(v, 'none'), [0.3, 0.4, 3, 4], 'none');
      assert.throws(() => normalizeEmbeddings(v, 'cos' as never), /embeddingNormalization must be one of lipschitz, l2, none, got 'cos'/);
    });
  });
});

describe('distances', () => {
  test('hand-checked distances; self matrix has a zero diagonal', () => {
    tidy(() => {
      const a = f64([
        [0, 0],
        [0.3, 0.4],
        [0.6, 0],
      ]);
      assertClose(euclideanDistance(a), [0, 0.5, 0.6, 0.5, 0, 0.5, 0.6, 0.5, 0], 'self distances', 1e-12);
      assertClose(euclideanDistance(a, f64([[3, 4]])), [5, Math.hypot(2.7, 3.6), Math.hypot(2.4, 4)], 'cross', 1e-12);
      assertClose(similarityMatrix(a, f64([[1, 2]])), [0, 1.1, 0.6], 'inner products', 1e-12);
    });
  });

  test('zero-distance rule: gradient 0 (not NaN) where d = 0, the usual (a - b)/d elsewhere', () => {
    tidy(() => {
      const a = f64([[1, 0]]).requireGrad();
      const b = f64([
        [1, 0],
        [0, 1],
      ]).requireGrad();
      const d = euclideanDistance(a, b);
      assertClose(d, [0, Math.SQRT2], 'd', 1e-15);
      d.sum().backward();
      assertClose(a.grad!, [1 / Math.SQRT2, -1 / Math.SQRT2], 'd sum / d a: only the non-zero pair', 1e-12);
      assertClose(b.grad!, [0, 0, -1 / Math.SQRT2, 1 / Math.SQRT2], 'd sum / d b: 0 for the coincident point', 1e-12);
      // a naive sqrt gives NaN there
      const a2 = f64([[1, 0]]).requireGrad();
      a2.sub(f64([[1, 0]]))
        .square()
        .sum()
        .sqrt()
        .backward();
      assert.ok(Number.isNaN(a2.grad!.toArray()[0]!));
    });
  });

  test('self matrix: the diagonal and duplicate rows get no gradient, no NaN anywhere', () => {
    tidy(() => {
      const a = f64([
        [1, 0],
        [1, 0],
        [0, 2],
      ]).requireGrad();
      const d = euclideanDistance(a);
      d.backward(
        f64([
          [5, 1, 0],
          [1, 5, 0],
          [0, 0, 5],
        ]),
      );
      const g = a.grad!.toArray();
      assert.ok(g.every(Number.isFinite), `finite gradient ${g}`);
      assertClose(a.grad!, [0, 0, 0, 0, 0, 0], 'only zero-distance pairs had weight');
    });
  });

  test('safeSqrt: value and zero gradient at 0', () => {
    tidy(() => {
      const x = f64([0, 4]).requireGrad();
      const y = safeSqrt(x);
      assertClose(y, [0, 2], 'safeSqrt');
      y.sum().backward();
      assertClose(x.grad!, [0, 0.25], 'safeSqrt grad');
    });
  });

  test('finite differences of the distance matrices', () => {
    tidy(() => {
      manualSeed(5);
      const a = randn([5, 3], { dtype: 'float64' });
      const b = randn([4, 3], { dtype: 'float64' });
      gradcheck((x) => euclideanDistance(x), [a], { name: 'self distance' });
      gradcheck((x, y) => euclideanDistance(x, y), [a, b], { name: 'cross distance' });
    });
  });
});

describe('masks', () => {
  test('batch vs batch: positives exclude the diagonal', () => {
    tidy(() => {
      const { pos, neg } = pairMasks(int64([0, 1, 0]));
      assert.deepEqual(pos.toArray(), [0, 0, 1, 0, 0, 0, 1, 0, 0]);
      assert.deepEqual(neg.toArray(), [0, 1, 0, 1, 0, 1, 0, 1, 0]);
    });
  });

  test('batch vs reference: nothing excluded, rows = batch, cols = refs; [n,1] labels accepted', () => {
    tidy(() => {
      const { pos, neg } = pairMasks(int64([0, 1]), int64([1, 1, 0], [3, 1]));
      assert.deepEqual(pos.shape, [2, 3]);
      assert.deepEqual(pos.toArray(), [0, 0, 1, 1, 1, 0]);
      assert.deepEqual(neg.toArray(), [1, 1, 0, 0, 0, 1]);
      // same labels on both sides: the "diagonal" is a positive here
      assert.deepEqual(pairMasks(int64([2, 3]), int64([2, 3])).pos.toArray(), [1, 0, 0, 1]);
    });
  });
});

describe('reducers', () => {
  test('mean over active terms, eps 1e-16; empty set gives 0 with zero gradient', () => {
    tidy(() => {
      assertClose(meanOfActive(f64([0, -1, 2, 3])), 2.5, 'active mean');
      const z = f64([0, -1, 0]).requireGrad();
      const r = meanOfActive(z);
      assert.equal(r.item(), 0);
      r.backward();
      assertClose(z.grad!, [0, 0, 0], 'no active term: no gradient');
      const t = f64([1, 3, 0]).requireGrad();
      meanOfActive(t).backward();
      assertClose(t.grad!, [0.5, 0.5, 0], 'count is a constant');
      assertClose(meanReducer(f64([1, 3, 0, 0])), 1, 'plain mean');
      assertClose(sumReducer(f64([1, 3, 0, 0])), 4, 'sum');
      assertClose(reduceTerms(f64([1, -3, 2, 0]), 'mean'), 0.75, 'mean of hinge');
      assertClose(reduceTerms(f64([1, -3, 2, 0]), 'sum'), 3, 'sum of hinge');
      assert.throws(() => reduceTerms(f64([1]), 'median' as never), /reduction must be one of active, mean, sum/);
    });
  });

  test('masked log-sum-exp forms (also with huge logits)', () => {
    tidy(() => {
      const z = f64([
        [1, 2, 3],
        [500, 0, 0],
      ]);
      const m = noGrad(() =>
        f64([
          [1, 0, 1],
          [1, 0, 0],
        ]).gt(0),
      );
      assertClose(maskedLog1pSumExp(z, m), [Math.log(1 + Math.E + Math.exp(3)), 500], 'log1p sum exp', 1e-12);
      assertClose(maskedLog1pSumExp(z, m.logicalAnd(m.logicalNot())), [0, 0], 'empty mask gives 0');
      assertClose(maskedLogSumExp(z, m).slice(0, 0, 1), [Math.log(Math.E + Math.exp(3))], 'logsumexp', 1e-12);
    });
  });
});
