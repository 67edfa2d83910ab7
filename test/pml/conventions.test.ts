// Distances as objects and the places where our defaults deliberately differ from PML: the defaults are
// tested against the spec (test/losses/reference.test.ts), PML's settings against PML (losses.test.ts);
// here the switches themselves, on hand-computed cases.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { int64, tensor, tidy, type Tensor } from '../../src/engine/index.js';
import {
  ContrastiveLoss,
  CosineSimilarity,
  DotProductSimilarity,
  EuclideanDistance,
  ProxyAnchorLoss,
  SoftTripleLoss,
  TripletLoss,
  resolveDistance,
} from '../../src/losses/index.js';
import { createLoss } from '../../src/miners/index.js';

const f64 = (d: number[], s: number[]): Tensor => tensor(Float64Array.from(d), s, { dtype: 'float64' });

describe('distances as objects', () => {
  test('names resolve to objects; margins flip for similarities; cosine forces L2 normalisation', () => {
    tidy(() => {
      assert.ok(resolveDistance('euclidean', 'dot', 't') instanceof EuclideanDistance);
      assert.ok(resolveDistance(undefined, 'dot', 't') instanceof DotProductSimilarity);
      const cos = resolveDistance('cosine', 'dot', 't');
      assert.ok(cos instanceof CosineSimilarity);
      assert.equal(cos.normalization, 'l2');
      assert.equal(new DotProductSimilarity().normalization, undefined);
      assert.throws(() => resolveDistance('manhattan' as never, 'dot', 'triplet'), /triplet: distance must be one of euclidean, cosine, dot/);
      const x = f64([2], [1]);
      assert.equal(new EuclideanDistance().margin(x, 0.5).item(), 1.5);
      assert.equal(cos.margin(x, 0.5).item(), -1.5);
      assert.equal(cos.margin(0.5, x).item(), 1.5);
      // the matrix: distance and similarity of the same two rows
      const a = f64([3, 4, 0, 1], [2, 2]);
      assert.ok(Math.abs(new EuclideanDistance().matrix(a).toArray()[1]! - Math.hypot(3, 3)) < 1e-12);
      assert.equal(new DotProductSimilarity().matrix(a).toArray()[1], 4);
    });
  });

  test("a distance object given to a loss is used as is (its normalisation wins over the loss's)", () => {
    tidy(() => {
      const emb = f64([3, 4, 0, 2, 1, 0], [3, 2]);
      const y = int64([0, 0, 1]);
      // cosine ignores the embedding scale: the loss is the same for scaled embeddings
      const l = new ContrastiveLoss({ distance: new CosineSimilarity(), embeddingNormalization: 'none', posMargin: 0.9, negMargin: 0.1 });
      assert.ok(Math.abs(l.forward(emb, y).item() - l.forward(emb.mul(7), y).item()) < 1e-12);
      // with a similarity the contrastive defaults flip to m+ = 1, m- = 0
      const d = new ContrastiveLoss({ distance: 'cosine' });
      assert.deepEqual([d.posMargin, d.negMargin], [1, 0]);
      // the triplet loss on a similarity = the triplet loss on minus that similarity, as a distance
      const ts = new TripletLoss({ distance: 'dot', embeddingNormalization: 'none', margin: 0.3 }).forward(emb, y).item();
      // by hand: anchors 0,1 (pos each other), negative 2; s = <a, b>
      const s = (i: number, j: number): number => {
        const v = emb.toArray();
        return v[2 * i]! * v[2 * j]! + v[2 * i + 1]! * v[2 * j + 1]!;
      };
      const terms = [s(0, 2) - s(0, 1) + 0.3, s(1, 2) - s(1, 0) + 0.3].filter((t) => t > 0);
      assert.ok(Math.abs(ts - (terms.length ? terms.reduce((p, q) => p + q) / terms.length : 0)) < 1e-12);
    });
  });
});

describe('convention switches', () => {
  test('ProxyAnchor: the negative term is divided by the proxies with a negative (spec) or by all proxies (PML)', () => {
    tidy(() => {
      const proxies = f64([1, 0, 0, 1, -1, 0, 0, -1], [4, 2]);
      const emb = f64([0.6, 0.8, 0.8, 0.6], [2, 2]);
      const y = int64([1, 1]); // one class in the batch: 3 proxies have negatives, 4 classes
      const opts = { numClasses: 4, embeddingDim: 2, alpha: 4, delta: 0.1, embeddingNormalization: 'l2' as const };
      const spec = new ProxyAnchorLoss({ ...opts, initialProxies: proxies }).forward(emb, y).item();
      const pml = new ProxyAnchorLoss({ ...opts, initialProxies: proxies, negativeDivisor: 'classes' }).forward(emb, y).item();
      // by hand
      const e = [
        [0.6, 0.8],
        [0.8, 0.6],
      ];
      const p = [
        [1, 0],
        [0, 1],
        [-1, 0],
        [0, -1],
      ];
      const dot = (u: number[], v: number[]): number => u[0]! * v[0]! + u[1]! * v[1]!;
      const pos = Math.log(1 + e.reduce((acc, x) => acc + Math.exp(-4 * (dot(p[1]!, x) - 0.1)), 0));
      let negSum = 0;
      for (const c of [0, 2, 3]) negSum += Math.log(1 + e.reduce((acc, x) => acc + Math.exp(4 * (dot(p[c]!, x) + 0.1)), 0));
      assert.ok(Math.abs(spec - (pos + negSum / 3)) < 1e-12, `spec ${spec}`);
      assert.ok(Math.abs(pml - (pos + negSum / 4)) < 1e-12, `pml ${pml}`);
      assert.throws(() => new ProxyAnchorLoss({ ...opts, negativeDivisor: 'batch' as never }), /negativeDivisor must be 'withNegatives' or 'classes'/);
    });
  });

  test('SoftTriple: negative Euclidean (code) by default, cosine (PML) on request; the pml preset', () => {
    tidy(() => {
      const opts = {
        numClasses: 2,
        embeddingDim: 2,
        centersPerClass: 1,
        la: 1,
        gamma: 1,
        tau: 0,
        delta: 0,
        initialProxies: f64([1, 0, 0, 1], [2, 2]),
        embeddingNormalization: 'l2' as const,
      };
      const emb = f64([0.6, 0.8], [1, 2]);
      const y = int64([0]);
      const code = new SoftTripleLoss(opts).forward(emb, y).item();
      const cos = new SoftTripleLoss({ ...opts, distance: 'cosine' }).forward(emb, y).item();
      const d0 = Math.hypot(0.6 - 1, 0.8);
      const d1 = Math.hypot(0.6, 0.8 - 1);
      assert.ok(Math.abs(code - (Math.log(Math.exp(-d0) + Math.exp(-d1)) + d0)) < 1e-12);
      assert.ok(Math.abs(cos - (Math.log(Math.exp(0.6) + Math.exp(0.8)) - 0.6)) < 1e-12);
      const pml = SoftTripleLoss.preset('pml', { numClasses: 2, embeddingDim: 2 });
      assert.deepEqual([pml.la, pml.gamma, pml.tau, pml.delta, pml.centersPerClass], [20, 0.1, 0, 0.01, 10]);
    });
  });

  test('ArcFace margins are radians (PML: degrees); the pml preset is 28.6 degrees', () => {
    tidy(() => {
      const a = createLoss('arcface', { numClasses: 2, embeddingDim: 2, preset: 'pml' }) as unknown as { margin: number };
      assert.ok(Math.abs(a.margin - (28.6 * Math.PI) / 180) < 1e-15);
      const s = createLoss('subcenter_arcface', { numClasses: 2, embeddingDim: 2 }) as unknown as { subCenters: number; parameters(): Tensor[] };
      assert.equal(s.subCenters, 3);
      assert.deepEqual(s.parameters()[0]!.shape, [6, 2]);
      assert.throws(() => createLoss('cosface', { numClasses: 2, embeddingDim: 2, preset: 'cub' }), /cosface: no presets/);
    });
  });
});
