// The CCP step against an independent Python PyTorch implementation of spec §2 (scripts/fixtures/ccp_crosscheck.py,
// test/fixtures/ccp/crosscheck.json): the same linear model, data, batches, candidate pools and validation values
// go through our ccp(C2) loss, CcpController (K-center, θ_best/P_best snapshots, projections, proximal term) and
// the trainer's gradient pipeline (weight decay, proximal gradient, clipping by norm then value, Adam). Per-step
// losses, the proxies after every K-center, and W and P after two projections must agree in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, int64, tidy, keep, noGrad, type Tensor } from '../../src/engine/index.js';
import { Adam } from '../../src/engine/optim/index.js';
import { ContrastiveLoss } from '../../src/losses/index.js';
import { ccp } from '../../src/ccp/index.js';
import { buildGradientPipeline } from '../../src/training/gradient-pipeline.js';
import { repoRoot } from '../helpers/repo-root.js';

interface Fixture {
  producedBy: string;
  problem: {
    C: number;
    D: number;
    K: number;
    b: number;
    lambda: number;
    weightDecay: number;
    clipNorm: number;
    clipValue: number;
    lr: number;
    betas: [number, number];
    eps: number;
    wBatch: number;
    wProxy: number;
    posMargin: number;
    negMargin: number;
    patience: number;
    minDelta: number;
    stepsPerEpoch: number;
    validation: number[];
    X: number[][];
    Y: number[];
    W0: number[][];
    batches: number[][];
    pools: number[][][];
  };
  expected: { losses: number[]; kcenters: number[][][]; projectionEpochs: number[]; W: number[][]; P: number[][] };
}

const fixture = JSON.parse(readFileSync(join(repoRoot(import.meta.url), 'test', 'fixtures', 'ccp', 'crosscheck.json'), 'utf8')) as Fixture;
const TOL = 1e-9;

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= TOL * Math.max(1, Math.abs(e)), `${what}[${i}]: ours ${a}, reference ${e}`);
  });
}

test('CCP step cross-check: ccp(C2) + controller + gradient pipeline equal an independent PyTorch run of spec §2', async () => {
  const p = fixture.problem;
  const X = tensor(p.X, undefined, { dtype: 'float64' });
  const W = tensor(p.W0, undefined, { dtype: 'float64', requiresGrad: true });
  const loss = ccp(new ContrastiveLoss({ posMargin: p.posMargin, negMargin: p.negMargin }), {
    numClasses: p.C,
    dim: p.D,
    dtype: 'float64',
    proxiesPerClass: p.K,
    poolSize: p.b,
    lambda: p.lambda,
    patience: p.patience,
    minDelta: p.minDelta,
    batchWeight: p.wBatch,
    proxyWeight: p.wProxy,
  });
  const P = loss.proxies;
  const optimizer = new Adam([W, P], { lr: p.lr, betas: p.betas, eps: p.eps });
  // The trainer's own pipeline: weight decay on W and P, the proximal term on W, clip by norm, clip by value, Adam.
  const pipeline = buildGradientPipeline(
    { clipNorm: p.clipNorm, clipValue: p.clipValue },
    { optimizer, decayParams: [W, P], allParams: [W, P], networkParams: [['W', W]], gradientWeightDecay: p.weightDecay },
    loss,
  );
  assert.deepEqual(
    pipeline.stages.map((st) => st.name),
    ['weight-decay', 'ccp-regularizer', 'clip-norm', 'clip-value'],
  );
  const kcenters: number[][] = [];
  let poolsUsed = 0;
  const rows = (indices: number[]) => X.indexSelect(0, int64(indices));
  const ctx = {
    parameters: [['W', W]] as const,
    samplePool: async (bPrime: number): Promise<Tensor> => {
      const pool = p.pools[poolsUsed++]!;
      assert.equal(pool[0]!.length, bPrime, 'pool size b′');
      return noGrad(() => keep(tidy(() => rows(pool.flat()).matmul(W.t()).reshape([p.C, bPrime, p.D]))));
    },
  };
  const controller = loss.controller;
  await controller.onTrainBegin(ctx);
  kcenters.push(loss.proxies.toArray());

  const losses: number[] = [];
  const projections: number[] = [];
  let step = 0;
  for (const [e, value] of p.validation.entries()) {
    for (let s = 0; s < p.stepsPerEpoch; s++) {
      const batch = p.batches[step++]!;
      losses.push(
        tidy(() => {
          const out = loss.forward(rows(batch).matmul(W.t()), int64(batch.map((i) => p.Y[i]!)));
          out.backward();
          return out.item();
        }),
      );
      pipeline.apply();
    }
    const result = await controller.onEpochEnd(value, { ...ctx, epoch: e + 1 });
    if (result.projected) {
      projections.push(e + 1);
      kcenters.push(loss.proxies.toArray());
    }
  }

  assertClose(losses, fixture.expected.losses, 'losses');
  assert.deepEqual(projections, fixture.expected.projectionEpochs, 'projection epochs');
  assert.equal(kcenters.length, fixture.expected.kcenters.length, 'number of K-center re-initialisations');
  kcenters.forEach((k, i) => assertClose(k, fixture.expected.kcenters[i]!.flat(), `proxies after K-center ${i}`));
  assertClose(W.toArray(), fixture.expected.W.flat(), 'W after all steps');
  assertClose(loss.proxies.toArray(), fixture.expected.P.flat(), 'P after all steps');
  loss.dispose();
  W.dispose();
  X.dispose();
});
