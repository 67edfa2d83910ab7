// Small cases computed by hand (2-D points with norm <= 1, so N(v) is the identity).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, int64 } from '../../src/engine/index.js';
import { ContrastiveLoss, OriginalContrastiveLoss, TripletLoss, MultiSimilarityLoss, ProxyNCALoss, ProxyAnchorLoss } from '../../src/losses/index.js';
import { f64, assertClose } from './helpers.js';

// x0 = (0,0), x1 = (0.3,0.4) share class 0, x2 = (0.6,0) is class 1. d01 = 0.5, d02 = 0.6, d12 = 0.5.
const pts = () =>
  f64([
    [0, 0],
    [0.3, 0.4],
    [0.6, 0],
  ]);
const y = () => int64([0, 0, 1]);

describe('hand-checked losses', () => {
  test('C2 contrastive (m+ 0.2, m- 0.55): value 0.35 and gradient', () => {
    tidy(() => {
      const x = pts().requireGrad();
      const loss = new ContrastiveLoss({ posMargin: 0.2, negMargin: 0.55 }).forward(x, y());
      // positives (0,1),(1,0): 0.5 - 0.2 = 0.3 each -> mean 0.3; negatives: d02 = 0.6 inactive,
      // (1,2),(2,1): 0.55 - 0.5 = 0.05 each -> mean 0.05
      assertClose(loss, 0.35, 'C2 value', 1e-12);
      loss.backward();
      // pos: x0 gets 2 * 1/2 * (x0 - x1)/0.5 = (-0.6,-0.8); neg: x1 gets 2 * 1/2 * -(x1 - x2)/0.5 = (0.6,-0.8)
      assertClose(x.grad!, [-0.6, -0.8, 1.2, 0, -0.6, 0.8], 'C2 gradient', 1e-12);
    });
  });

  test('C2 with nothing active is 0 (empty means, eps 1e-16)', () => {
    tidy(() => {
      assertClose(new ContrastiveLoss({ posMargin: 1, negMargin: 0.1 }).forward(pts(), y()), 0, 'inactive');
    });
  });

  test('triplet (margin 0.2): anchors 0 and 1, tau = 0.1 and 0.2 -> 0.15', () => {
    tidy(() => {
      for (const path of ['dense', 'chunked'] as const) {
        const x = pts().requireGrad();
        const loss = new TripletLoss({ margin: 0.2, path }).forward(x, y());
        assertClose(loss, 0.15, `triplet value (${path})`, 1e-12);
        loss.backward();
        // L = (1/2)[2 d01 - d02 - d12 + 2m]; dd01/dx0 = (-0.6,-0.8), dd02/dx0 = (-1,0), dd02/dx2 = (1,0),
        // dd12/dx1 = (-0.6,0.8), dd12/dx2 = (0.6,-0.8)
        const expected = [-0.1, -0.8, 0.9, 0.4, -0.8, 0.4];
        assertClose(x.grad!, expected, `triplet gradient (${path})`, 1e-12);
      }
    });
  });

  test('triplet against a reference set: rows = samples, cols = refs; a coincident positive ref has d = 0', () => {
    tidy(() => {
      const x = f64([[0.3, 0.4]]).requireGrad();
      const ref = {
        embeddings: f64([
          [0.3, 0.4],
          [0.6, 0],
        ]),
        labels: int64([5, 7]),
      };
      const loss = new TripletLoss({ margin: 0.7 }).forward(x, int64([5]), ref);
      assertClose(loss, 0 - 0.5 + 0.7, 'tau = d_ap - d_an + m', 1e-12);
      loss.backward();
      // d_ap = 0: gradient 0 (zero-distance rule); -d_an: -(x - r1)/0.5 = (0.6, -0.8)
      assertClose(x.grad!, [0.6, -0.8], 'gradient', 1e-12);
    });
  });

  test('C1 original contrastive (m 0.5, eps 1e-5) on cos similarities', () => {
    tidy(() => {
      // s01 = 0.96, s02 = 0.6, s12 = 0.8
      const x = f64([
        [0.6, 0.8],
        [0.8, 0.6],
        [1, 0],
      ]);
      const pos = 2 * (1 - 0.96 - 1e-5);
      const neg = 2 * (0.6 - 0.5) + 2 * (0.8 - 0.5);
      assertClose(new OriginalContrastiveLoss().forward(x, y()), (pos + neg) / 3, 'C1', 1e-12);
      // XBM's official value adds s, not s - m, for the active negatives
      assertClose(new OriginalContrastiveLoss({ negativeTerm: 's' }).forward(x, y()), (pos + 2 * 0.6 + 2 * 0.8) / 3, 'C1 xbm-style', 1e-12);
      // 1/n_rows with a reference set: rows = 1 sample
      const ref = {
        embeddings: f64([
          [0.8, 0.6],
          [1, 0],
        ]),
        labels: int64([0, 1]),
      };
      assertClose(new OriginalContrastiveLoss().forward(f64([[0.6, 0.8]]), int64([0]), ref), 1 - 0.96 - 1e-5 + 0.1, 'C1 ref', 1e-12);
      // reduction 'active': each sum over its own active terms (2 positive pairs, 4 active negatives)
      assertClose(new OriginalContrastiveLoss({ reduction: 'active' }).forward(x, y()), pos / 2 + neg / 4, 'C1 active mean', 1e-12);
      // with more (here: inactive) columns the 'anchors' form keeps its sum; the active mean ignores inactive terms
      const wide = {
        embeddings: f64([
          [0.8, 0.6],
          [1, 0],
          [0, 1],
          [-1, 0],
        ]),
        labels: int64([0, 1, 1, 1]),
      };
      assertClose(
        new OriginalContrastiveLoss({ reduction: 'active' }).forward(f64([[0.6, 0.8]]), int64([0]), wide),
        1 - 0.96 - 1e-5 + (0.1 + 0.3) / 2,
        'C1 active, ref',
        1e-12,
      );
      assert.throws(() => new OriginalContrastiveLoss({ reduction: 'mean' as never }), /reduction must be 'anchors' or 'active', got 'mean'/);
    });
  });

  test('MS (alpha 2, beta 4, lambda 0.5)', () => {
    tidy(() => {
      const x = f64([
        [0.6, 0.8],
        [0.8, 0.6],
        [1, 0],
      ]);
      const p = (s: number) => Math.log(1 + Math.exp(-2 * (s - 0.5))) / 2;
      const n = (...s: number[]) => Math.log(1 + s.reduce((acc, v) => acc + Math.exp(4 * (v - 0.5)), 0)) / 4;
      const expected = (p(0.96) + n(0.6) + p(0.96) + n(0.8) + 0 + n(0.6, 0.8)) / 3;
      assertClose(new MultiSimilarityLoss({ alpha: 2, beta: 4, lambda: 0.5 }).forward(x, y()), expected, 'MS', 1e-12);
    });
  });

  test('ProxyNCA++: softmax over all proxies, positive included', () => {
    tidy(() => {
      const proxies = f64([
        [1, 0],
        [0, 1],
      ]);
      const loss = new ProxyNCALoss({ numClasses: 2, embeddingDim: 2, initialProxies: proxies, temperature: 0.5 });
      const x = f64([[0.6, 0.8]]);
      // logits (0.6, 0.8)/0.5 = (1.2, 1.6); class 0: -log(e^1.2 / (e^1.2 + e^1.6))
      assertClose(loss.forward(x, int64([0])), -Math.log(Math.exp(1.2) / (Math.exp(1.2) + Math.exp(1.6))), 'NCA++', 1e-12);
    });
  });

  test('ProxyAnchor: rows = proxies, counts of proxies with positives / negatives', () => {
    tidy(() => {
      const proxies = f64([
        [1, 0],
        [0, 1],
        [-1, 0],
      ]);
      const loss = new ProxyAnchorLoss({ numClasses: 3, embeddingDim: 2, initialProxies: proxies, alpha: 2, delta: 0.1 });
      const x = f64([
        [0.6, 0.8],
        [1, 0],
      ]);
      // sims: proxy0: (0.6, 1); proxy1: (0.8, 0); proxy2: (-0.6, -1). labels (0, 1)
      const pos = Math.log(1 + Math.exp(-2 * (0.6 - 0.1))) + Math.log(1 + Math.exp(-2 * (0 - 0.1)));
      const neg =
        Math.log(1 + Math.exp(2 * (1 + 0.1))) + Math.log(1 + Math.exp(2 * (0.8 + 0.1))) + Math.log(1 + Math.exp(2 * (-0.6 + 0.1)) + Math.exp(2 * (-1 + 0.1)));
      assertClose(loss.forward(x, int64([0, 1])), pos / 2 + neg / 3, 'ProxyAnchor', 1e-12);
    });
  });

  test('errors name the loss and the fault', () => {
    tidy(() => {
      assert.throws(() => new ContrastiveLoss().forward(f64([[1, 2]]), int64([0, 1])), /contrastive: 1 embeddings but 2 labels/);
      assert.throws(() => new ContrastiveLoss().forward(f64([1, 2]), int64([0, 1])), /contrastive: embeddings must be 2-D/);
      assert.throws(
        () => new TripletLoss().forward(f64([[1, 2]]), int64([0]), { embeddings: f64([[1, 2, 3]]), labels: int64([0]) }),
        /triplet: ref.embeddings have dimension 3, the batch has 2/,
      );
      const pn = new ProxyNCALoss({ numClasses: 2, embeddingDim: 2, dtype: 'float64' });
      assert.throws(() => pn.forward(f64([[1, 2]]), int64([2])), /proxy_nca: labels must be class indices in \[0, 2\)/);
      assert.throws(() => new ContrastiveLoss({ posMargin: Number.NaN }), /contrastive: posMargin must be a finite number/);
    });
  });
});
