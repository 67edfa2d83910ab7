// GradientShareCallback against the trainer's own gradients: the two loss terms' gradients add up to what backward
// produced, and the weight-decay and regulariser norms are what the gradient pipeline adds (measured by a probe
// callback as the difference between the gradients before and after the pipeline, clipping off).
import test from 'node:test';
import assert from 'node:assert/strict';
import { keep, noGrad, tidy, type Tensor } from '../../src/engine/index.js';
import { parseRunConfig, type RunConfigInput } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData, type RunData } from '../../src/training/data-setup.js';
import { GradientShareCallback, type GradientShareSample, type StepContext, type TrainCallback } from '../../src/training/hooks/index.js';
import { isCcpLoss } from '../../src/ccp/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('gradient-share');

function config(over: { ccp?: Record<string, unknown>; optimizer?: Record<string, unknown>; training?: Record<string, unknown>; loss?: string } = {}) {
  const input: RunConfigInput = {
    name: 'gradient-share',
    seed: 3,
    outputDir: tmp,
    dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 30 },
    model: { name: 'small_cnn', embeddingDim: 8, options: { channels: [4, 8] } },
    loss: { name: over.loss ?? 'ccp/contrastive' },
    ccp: { proxiesPerClass: 2, poolSize: 3, ...over.ccp },
    optimizer: { lr: 1e-2, clipNorm: null, clipValue: null, ...over.optimizer },
    training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 3, maxEpochs: 2, earlyStopPatience: 10, evalBatchSize: 128, ...over.training },
  };
  return parseRunConfig(input);
}

let shared: RunData | null = null;
const data = async () => (shared ??= await prepareData(config().dataset, 3));

interface Probe {
  raw: { network: number; proxies: number }[];
  added: { network: number; proxies: number }[];
  applied: number[];
}

/** Norms of the raw gradients (after backward) and of what the pipeline added to them, per step. */
function probe(): TrainCallback & { seen: Probe } {
  const seen: Probe = { raw: [], added: [], applied: [] };
  let params: Tensor[] = [];
  let copies: Tensor[] = [];
  const norm = (ts: Tensor[]) => Math.sqrt(tidy(() => ts.reduce((a, t) => a + t.square().sum().item(), 0)));
  return {
    name: 'probe',
    seen,
    onTrainBegin(ctx) {
      if (isCcpLoss(ctx.loss)) params = [...ctx.model.parameters().filter((p) => p.requiresGrad), ctx.loss.proxies];
    },
    afterBackward() {
      copies = noGrad(() => params.map((p) => keep(p.grad!.clone())));
      seen.raw.push({ network: norm(copies.slice(0, -1)), proxies: norm(copies.slice(-1)) });
    },
    beforeOptimizerStep(_ctx: StepContext) {
      const diff = tidy(() => params.map((p, i) => keep(p.grad!.sub(copies[i]!))));
      seen.added.push({ network: norm(diff.slice(0, -1)), proxies: norm(diff.slice(-1)) });
      seen.applied.push(norm(params.map((p) => p.grad!)));
      for (const t of [...diff, ...copies]) t.dispose();
    },
  };
}

const close = (a: number, b: number, what: string, rel = 1e-3) =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-6), `${what}: ${a} vs ${b}`);

test('the loss terms add up to backward’s gradient; weight decay is what the pipeline adds', async () => {
  const share = new GradientShareCallback({ everySteps: 1 });
  const p = probe();
  await train(config({ optimizer: { weightDecay: 1e-2 }, ccp: { lambda: 0 } }), {
    runDir: `${tmp}/wd`,
    quiet: true,
    data: await data(),
    callbacks: [share, p],
  });
  const s = share.samples;
  assert.deepEqual(
    s.map((x) => x.step),
    [0, 1, 2, 3, 4, 5],
  );
  s.forEach((x: GradientShareSample, i) => {
    close(x.network.loss, p.seen.raw[i]!.network, `step ${i} network loss gradient`);
    close(x.proxies.loss, p.seen.raw[i]!.proxies, `step ${i} proxy loss gradient`);
    const { batch: b, proxy: q } = x.network;
    close(x.network.loss ** 2, b ** 2 + q ** 2 + 2 * x.cosineBatchProxy * b * q, `step ${i} ‖g_batch + g_proxy‖²`);
    assert.ok(b > 0 && q > 0 && Math.abs(x.cosineBatchProxy) <= 1 + 1e-6);
    assert.equal(x.proxies.batch, 0); // the in-batch term never sees the proxies
    close(x.proxies.proxy, x.proxies.loss, `step ${i} proxies: all from the proxy term`);
    close(x.network.weightDecay, p.seen.added[i]!.network, `step ${i} network weight decay`);
    close(x.proxies.weightDecay, p.seen.added[i]!.proxies, `step ${i} proxy weight decay`);
    assert.equal(x.network.regularizer, 0);
    close(x.normApplied, p.seen.applied[i]!, `step ${i} applied`);
    close(x.normApplied, x.normBeforeClip, `step ${i} no clipping`);
  });
});

test('the regulariser appears after the first projection, measured every 2nd step; batchWeight 0 leaves no batch term', async () => {
  const share = new GradientShareCallback({ everySteps: 2 });
  const p = probe();
  // minDelta 1 with patience 1: epoch 1 improves (from −∞), epoch 2 ends the first problem.
  const cfg = config({
    optimizer: { weightDecay: 0 },
    ccp: { lambda: 0.5, patience: 1, batchWeight: 0 },
    training: { maxEpochs: 3, minDelta: 1 },
  });
  const r = await train(cfg, { runDir: `${tmp}/reg`, quiet: true, data: await data(), callbacks: [share, p] });
  assert.deepEqual(
    r.ccpProjections.map((e) => e.epoch),
    [2],
  );
  const s = share.samples;
  assert.deepEqual(
    s.map((x) => [x.step, x.t]),
    [
      [0, 0],
      [2, 0],
      [4, 0],
      [6, 1],
      [8, 1],
    ],
  );
  for (const x of s) {
    assert.equal(x.network.batch, 0);
    close(x.network.proxy, x.network.loss, `step ${x.step}: all from the proxy term`);
    close(x.network.regularizer, p.seen.added[x.step]!.network, `step ${x.step} regulariser`);
    assert.equal(x.network.regularizer > 0, x.t === 1, `step ${x.step}: regulariser ${x.network.regularizer}`);
    assert.equal(x.lambda, x.t === 1 ? 0.5 : 0);
  }
});

test('clipping: the applied norm is the clip norm; a non-CCP loss is refused', async () => {
  const share = new GradientShareCallback({ everySteps: 3 });
  await train(config({ optimizer: { clipNorm: 1e-3 } }), { runDir: `${tmp}/clip`, quiet: true, data: await data(), callbacks: [share] });
  assert.ok(share.samples.length === 2);
  for (const x of share.samples) {
    assert.ok(x.normBeforeClip > 1e-3);
    close(x.normApplied, 1e-3, 'clipped norm', 1e-4);
  }
  await assert.rejects(
    train(config({ loss: 'contrastive' }), { runDir: `${tmp}/plain`, quiet: true, data: await data(), callbacks: [new GradientShareCallback()] }),
    /GradientShareCallback: the run's loss 'contrastive' is not a CCP loss/,
  );
  assert.throws(() => new GradientShareCallback({ everySteps: 0 }), /everySteps must be a positive integer, got 0/);
});
