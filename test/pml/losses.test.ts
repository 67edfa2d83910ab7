// Every loss against the REAL pytorch-metric-learning (test/fixtures/pml/losses.json, made by
// scripts/fixtures/pml_reference.py, which names the PML commit): value and gradients w.r.t. the embeddings,
// the reference set and the proxies / class weights, float64. Cases cover the distances (Euclidean, L2-
// normalised Euclidean, cosine, dot), reference sets, ArcFace past theta = pi - m, ProxyAnchor's PML divisor
// on one-class batches, SoftTriple with PML's cosine, and pair losses fed by PML's miners' own tuples and by
// our miners.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { int64, tensor, tidy, type Tensor } from '../../src/engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from '../../src/losses/index.js';
import { createLoss, createMiner, withMiner, type MinerSpec } from '../../src/miners/index.js';
import { Deviations, readPmlFixture } from './helpers.js';

interface Case {
  case: string;
  loss: string;
  options: Record<string, unknown>;
  note: string;
  embeddings: number[];
  shape: number[];
  labels: number[];
  ref: boolean;
  proxies?: number[];
  proxies_shape?: number[];
  miner?: { type: string } & Record<string, unknown>;
  mined?: number[][];
  expected: { loss: number; grad_embeddings: number[]; grad_ref?: number[]; grad_proxies?: number[] };
}
interface Fixture {
  produced_by: string;
  pml_commit: string;
  cases: Case[];
  ref: { embeddings: number[]; shape: number[]; labels: number[] };
}

const fx = readPmlFixture<Fixture>('losses.json');
const dev = new Deviations();
const f64 = (d: number[], s: number[]): Tensor => tensor(Float64Array.from(d), s, { dtype: 'float64' });

function minedFrom(t: number[][]): MinedTuples {
  const v = t.map((x) => int64(x));
  return v.length === 3 ? { kind: 'triplets', a: v[0]!, p: v[1]!, n: v[2]! } : { kind: 'pairs', a1: v[0]!, p: v[1]!, a2: v[2]!, n: v[3]! };
}

function build(c: Case): MetricLoss {
  const options: Record<string, unknown> = { ...c.options };
  if (c.proxies) options.initialProxies = f64(c.proxies, c.proxies_shape!);
  return createLoss(c.loss, options);
}

const group = (c: Case): string => c.loss + (c.miner ? ` + ${c.miner.type} miner` : '');

function run(c: Case, loss: MetricLoss, mined: () => MinedTuples | undefined, tag: string): void {
  tidy(() => {
    const emb = f64(c.embeddings, c.shape).requireGrad();
    const y = int64(c.labels);
    let ref: ReferenceSet | undefined;
    if (c.ref) ref = { embeddings: f64(fx.ref.embeddings, fx.ref.shape).requireGrad(), labels: int64(fx.ref.labels) };
    const value = loss.forward(emb, y, ref, mined());
    value.backward();
    const g = group(c);
    dev.check(g, 'value', value.item(), c.expected.loss, `${c.case}${tag}: loss`);
    dev.check(g, 'grad', emb.grad!, c.expected.grad_embeddings, `${c.case}${tag}: d loss / d embeddings`);
    if (c.expected.grad_ref) dev.check(g, 'grad', ref!.embeddings.grad!, c.expected.grad_ref, `${c.case}${tag}: d loss / d ref`);
    if (c.expected.grad_proxies) dev.check(g, 'grad', loss.parameters()[0]!.grad!, c.expected.grad_proxies, `${c.case}${tag}: d loss / d proxies`);
  });
}

describe('losses vs the real pytorch-metric-learning', () => {
  test('fixture names PML, its commit and torch', () => {
    assert.match(fx.produced_by, /pytorch-metric-learning 2\.8\.1 \(commit [0-9a-f]{40}\) on torch \d/);
    assert.ok(fx.cases.length >= 70, `${fx.cases.length} cases`);
  });

  for (const c of fx.cases) {
    test(c.case, () => {
      dev.count(group(c));
      if (c.miner) {
        // PML's own mined tuples, then our miner in front of our loss: both must give PML's loss.
        run(c, build(c), () => minedFrom(c.mined!), ' (PML tuples)');
        run(c, withMiner(build(c), createMiner(c.miner as MinerSpec)), () => undefined, ' (our miner)');
      } else {
        run(c, build(c), () => undefined, '');
      }
    });
  }

  test("preset 'pml' is PML's setting: only the case's own hyperparameters given, PML's value and gradients", () => {
    // margins / scales that differ from PML's defaults stay explicit; distance, normalisation and divisor come from the preset
    const keep: Record<string, string[]> = {
      'contrastive l2_euclidean': ['posMargin', 'negMargin'],
      'contrastive l2_euclidean vs ref': ['posMargin', 'negMargin'],
      'triplet l2_euclidean': ['margin'],
      'triplet l2_euclidean vs ref': ['margin'],
      'multi_similarity cosine a2 b50': [],
      'multi_similarity cosine a2 b50 vs ref': [],
      'proxy_anchor a32 d0.1': ['numClasses', 'embeddingDim'],
      'proxy_anchor a32 d0.1 one-class batch': ['numClasses', 'embeddingDim'],
      'soft_triple K3 la20 gamma0.1': ['numClasses', 'embeddingDim', 'centersPerClass'],
      'arcface m28.6deg s64 random': ['numClasses', 'embeddingDim'],
      'arcface m28.6deg s64 angles up to 179deg (past pi - m)': ['numClasses', 'embeddingDim'],
    };
    for (const [name, fields] of Object.entries(keep)) {
      const c = fx.cases.find((x) => x.case === name);
      assert.ok(c, name);
      const options: Record<string, unknown> = { preset: 'pml' };
      for (const f of fields) options[f] = c.options[f];
      if (c.proxies) options.initialProxies = f64(c.proxies, c.proxies_shape!);
      run(c, createLoss(c.loss, options), () => undefined, " (preset 'pml')");
    }
  });

  test('ArcFace: the target logit keeps falling past theta = pi - m (the loss rises as the sample turns away)', () => {
    tidy(() => {
      const m = (28.6 * Math.PI) / 180;
      const loss = createLoss('arcface', { numClasses: 2, embeddingDim: 2, margin: m, scale: 8, initialProxies: f64([1, 0, 0, 1], [2, 2]) });
      let prev = -Infinity;
      for (let deg = 100; deg <= 180; deg += 5) {
        const t = (deg * Math.PI) / 180;
        // rotate away from class 0 on the side away from class 1
        const v = loss.forward(f64([Math.cos(t), -Math.sin(t)], [1, 2]), int64([0])).item();
        assert.ok(v > prev, `loss at ${deg} deg (${v}) must exceed the loss at ${deg - 5} deg (${prev})`);
        prev = v;
      }
    });
  });

  after(() => console.log(dev.table(`PML ${fx.pml_commit.slice(0, 8)} losses`)));
});
