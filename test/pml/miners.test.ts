// Miners against the real pytorch-metric-learning (test/fixtures/pml/miners.json): the mined pairs /
// triplets as sets (PML's multi-similarity miner orders each row by similarity, ours row-major), with and
// without a reference set; and the composition rules (miner + pair loss, XBM, errors).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { int64, tensor, tidy, type Tensor } from '../../src/engine/index.js';
import type { MinedTuples } from '../../src/losses/index.js';
import {
  createLoss,
  BatchHardMiner,
  createMiner,
  MinedLoss,
  type MultiSimilarityMiner,
  type TripletMarginMiner,
  withMiner,
  type MinerSpec,
} from '../../src/miners/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { buildLoss } from '../../src/training/build.js';
import { readPmlFixture } from './helpers.js';

interface Fixture {
  produced_by: string;
  inputs: { embeddings: number[]; shape: number[]; labels: number[]; ref: number[]; ref_shape: number[]; ref_labels: number[] };
  cases: { case: string; options: MinerSpec & { type: string }; ref: boolean; mined: number[][] }[];
}

const fx = readPmlFixture<Fixture>('miners.json');
const f64 = (d: number[], s: number[]): Tensor => tensor(Float64Array.from(d), s, { dtype: 'float64' });

function tuples(m: MinedTuples): string[][] {
  const cols = m.kind === 'triplets' ? [m.a, m.p, m.n] : [m.a1, m.p, m.a2, m.n];
  const arrs = cols.map((t) => t.toArray());
  const join = (parts: number[][]): string[] => parts[0]!.map((_, i) => parts.map((p) => p[i]).join(',')).sort();
  return m.kind === 'triplets' ? [join(arrs)] : [join(arrs.slice(0, 2)), join(arrs.slice(2))];
}

function pmlTuples(mined: number[][]): string[][] {
  const join = (parts: number[][]): string[] => parts[0]!.map((_, i) => parts.map((p) => p[i]).join(',')).sort();
  return mined.length === 3 ? [join(mined)] : [join(mined.slice(0, 2)), join(mined.slice(2))];
}

describe('miners vs the real pytorch-metric-learning', () => {
  test('fixture names PML and its commit', () => {
    assert.match(fx.produced_by, /pytorch-metric-learning 2\.8\.1 \(commit [0-9a-f]{40}\)/);
    assert.equal(fx.cases.length, 12);
  });

  for (const c of fx.cases) {
    test(c.case, () => {
      tidy(() => {
        const miner = createMiner(c.options);
        const emb = f64(fx.inputs.embeddings, fx.inputs.shape);
        const ref = c.ref ? { embeddings: f64(fx.inputs.ref, fx.inputs.ref_shape), labels: int64(fx.inputs.ref_labels) } : undefined;
        const ours = tuples(miner.mine(emb, int64(fx.inputs.labels), ref));
        const pml = pmlTuples(c.mined);
        assert.ok(pml.flat().length > 0, 'the case mines something');
        assert.deepEqual(ours, pml);
      });
    });
  }
});

describe('miner composition', () => {
  test("createMiner by name and by { type, ...options }; defaults are PML's", () => {
    const bh = createMiner('batch_hard');
    assert.ok(bh instanceof BatchHardMiner);
    assert.equal(bh.distance.name, 'euclidean');
    const sh = createMiner({ type: 'semihard', margin: 0.1 }) as TripletMarginMiner;
    assert.deepEqual([sh.typeOfTriplets, sh.margin], ['semihard', 0.1]);
    assert.equal((createMiner('triplet_margin') as TripletMarginMiner).typeOfTriplets, 'semihard');
    const ms = createMiner('multi_similarity') as MultiSimilarityMiner;
    assert.deepEqual([ms.epsilon, ms.distance.name], [0.1, 'cosine']);
    assert.throws(() => createMiner({ type: 'nope' } as unknown as MinerSpec), /unknown type 'nope'.*batch_hard/);
    assert.throws(() => createMiner({ type: 'triplet_margin', typeOfTriplets: 'odd' } as unknown as MinerSpec), /typeOfTriplets must be one of/);
  });

  test('createLoss with a miner wraps a pair loss; proxy losses refuse one; XBM wraps the mined loss', () => {
    tidy(() => {
      const l = createLoss('multi_similarity', { miner: 'multi_similarity' });
      assert.ok(l instanceof MinedLoss);
      assert.equal(l.name, 'multi_similarity+multi_similarity');
      assert.throws(() => createLoss('arcface', { numClasses: 3, embeddingDim: 4, miner: 'batch_hard' }), /does not take mined pairs/);
      const x = createLoss('xbm/triplet', { miner: 'batch_hard', xbm: { memoryBatches: 2, startStep: 1 } });
      assert.equal(x.name, 'xbm/triplet+batch_hard');
      const emb = f64(fx.inputs.embeddings, fx.inputs.shape).requireGrad();
      const v = x.forward(emb, int64(fx.inputs.labels));
      v.backward();
      assert.ok(Number.isFinite(v.item()) && v.item() > 0);
      assert.ok(emb.grad!.abs().sum().item() > 0);
    });
  });

  test('config: loss.miner (name or { type, ...options }) builds the mined loss; bad values name the key', () => {
    tidy(() => {
      const cfg = parseRunConfig({ dataset: { name: 'mnist' }, loss: { name: 'triplet', miner: { type: 'semihard', margin: 0.1 } } });
      const l = buildLoss(cfg, 10) as MinedLoss;
      assert.ok(l instanceof MinedLoss);
      assert.equal((l.miner as TripletMarginMiner).margin, 0.1);
      const x = buildLoss(parseRunConfig({ dataset: { name: 'mnist' }, loss: { name: 'xbm/multi_similarity', miner: 'multi_similarity' } }), 10);
      assert.equal(x.name, 'xbm/multi_similarity+multi_similarity');
      const c = buildLoss(
        parseRunConfig({ dataset: { name: 'mnist' }, model: { embeddingDim: fx.inputs.shape[1] }, loss: { name: 'ccp/triplet', miner: 'batch_hard' } }),
        10,
      );
      assert.equal(c.name, 'ccp/triplet+batch_hard');
      // the miner mines the batch against itself and against the CCP proxies; gradients reach the proxies
      const emb = f64(fx.inputs.embeddings, fx.inputs.shape).to('float32').requireGrad();
      const v = c.forward(emb, int64(fx.inputs.labels));
      v.backward();
      assert.ok(Number.isFinite(v.item()) && emb.grad!.abs().sum().item() > 0 && c.parameters()[0]!.grad!.abs().sum().item() > 0);
      assert.throws(() => parseRunConfig({ dataset: { name: 'mnist' }, loss: { name: 'triplet', miner: 'hardest' } }), /loss\.miner/);
      assert.throws(
        () => buildLoss(parseRunConfig({ dataset: { name: 'mnist' }, loss: { name: 'arcface', miner: 'batch_hard' } }), 10),
        /does not take mined pairs/,
      );
    });
  });

  test('a mined loss uses only the mined terms: batch-hard triplet = mean of the per-anchor hardest violations', () => {
    tidy(() => {
      const emb = f64(fx.inputs.embeddings, fx.inputs.shape);
      const y = int64(fx.inputs.labels);
      const miner = new BatchHardMiner({ embeddingNormalization: 'none' });
      const loss = withMiner(createLoss('triplet', { margin: 0.5, embeddingNormalization: 'none' }), miner);
      // by hand: for each anchor, max positive distance - min negative distance + margin, hinge, mean over > 0
      const x = emb.toArray();
      const n = fx.inputs.shape[0]!;
      const dim = fx.inputs.shape[1]!;
      const lab = fx.inputs.labels;
      const d = (i: number, j: number): number => Math.hypot(...Array.from({ length: dim }, (_, k) => x[i * dim + k]! - x[j * dim + k]!));
      let sum = 0;
      let cnt = 0;
      for (let a = 0; a < n; a++) {
        let hp = -Infinity;
        let hn = Infinity;
        for (let j = 0; j < n; j++) {
          if (j === a) continue;
          if (lab[j] === lab[a]) hp = Math.max(hp, d(a, j));
          else hn = Math.min(hn, d(a, j));
        }
        const t = hp - hn + 0.5;
        if (t > 0) {
          sum += t;
          cnt++;
        }
      }
      assert.ok(Math.abs(loss.forward(emb, y).item() - sum / cnt) < 1e-12);
    });
  });

  test('nothing mined gives a zero loss with a zero (not NaN) gradient', () => {
    tidy(() => {
      const emb = f64([1, 0, 0, 1, 1, 1], [3, 2]).requireGrad();
      const y = int64([0, 1, 2]); // no positives at all
      for (const name of ['contrastive', 'triplet', 'multi_similarity', 'ntxent', 'supcon', 'circle']) {
        const v = createLoss(name, { miner: 'batch_hard' }).forward(emb, y);
        assert.equal(v.item(), 0, name);
        v.backward();
        assert.ok(emb.grad!.isfinite().all().item(), `${name}: finite gradient`);
      }
    });
  });
});
