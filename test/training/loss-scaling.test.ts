// Dynamic loss scaling in the gradient pipeline (PyTorch GradScaler semantics), run on the CPU in float32 with
// optimizer.lossScaling.enabled 'on' (fp16 itself needs a CUDA device): the gradients are unscaled before weight
// decay, CCP's proximal term and clipping (a power-of-two scale gives the unscaled run's weights bit for bit); an
// injected inf skips the update and halves the scale; growthInterval clean steps double it; a scale that
// collapses is a divergence error; 'auto' turns it on exactly for fp16.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randn, int64, tidy, manualSeed, noGrad, type Tensor } from '../../src/engine/index.js';
import { parseRunConfig, type RunConfigInput } from '../../src/training/config.js';
import { buildModel, buildLoss, buildOptimizer } from '../../src/training/build.js';
import { buildGradientPipeline } from '../../src/training/gradient-pipeline.js';
import { buildLossScaling, MIN_LOSS_SCALE } from '../../src/training/loss-scaling.js';
import { DivergenceError } from '../../src/training/divergence.js';

const CLASSES = 4;

function parts(lossScaling: Record<string, unknown> | null, over: Partial<RunConfigInput> = {}) {
  const cfg = parseRunConfig({
    dataset: { name: 'mnist', imageSize: 8, channels: 1 },
    model: { name: 'mlp', embeddingDim: 6 },
    loss: { name: 'ccp/contrastive' },
    ccp: { proxiesPerClass: 2, poolSize: 3 },
    // Clipping bites (norm 0.5, value 0.01): on scaled gradients it would give other weights.
    optimizer: { name: 'adam', lr: 1e-2, weightDecay: 1e-2, clipNorm: 0.5, clipValue: 0.01, ...(lossScaling ? { lossScaling } : {}) },
    ...over,
  });
  manualSeed(11);
  const model = buildModel(cfg, [1, 8, 8]);
  const loss = buildLoss(cfg, CLASSES);
  const setup = buildOptimizer(cfg, model, loss);
  const scaling = buildLossScaling(cfg.optimizer.lossScaling, model.precision);
  const pipeline = buildGradientPipeline(cfg.optimizer, setup, loss, scaling);
  return { model, loss, setup, scaling, pipeline };
}

const x = randn([8, 1, 8, 8]);
const y = int64([0, 0, 1, 1, 2, 2, 3, 3]);
const weights = (ps: Tensor[]) => noGrad(() => ps.map((p) => Array.from(p.toFloat32Array())));

/** One training step through the pipeline; `poison` sets the first gradient row of the first weight to `poison` before the pipeline. */
function step(p: ReturnType<typeof parts>, poison?: number): boolean {
  tidy(() => p.pipeline.backward(p.loss.forward(p.model.forward(x), y)));
  if (poison !== undefined) {
    const g = p.setup.networkParams[0]![1].grad!;
    noGrad(() => tidy(() => g.narrow(0, 0, 1).fill_(poison)));
  }
  return p.pipeline.apply();
}

test('a power-of-two loss scale gives the unscaled run bit for bit: unscaling comes before decay, the proximal term and clipping', () => {
  const plain = parts(null);
  const scaled = parts({ enabled: 'on', initScale: 2 ** 10 });
  assert.equal(plain.scaling, null);
  for (let i = 0; i < 3; i++) {
    assert.equal(step(plain), true);
    assert.equal(step(scaled), true);
  }
  assert.deepEqual(weights(scaled.setup.allParams), weights(plain.setup.allParams));
  assert.equal(scaled.scaling!.scaler.getScale(), 2 ** 10);
});

test('an inf or NaN gradient skips the update (weights and Adam state unchanged), halves the scale and clears the gradients', () => {
  for (const poison of [Infinity, NaN]) {
    const p = parts({ enabled: 'on', initScale: 256 });
    step(p);
    const before = weights(p.setup.allParams);
    const adamBefore = JSON.stringify(p.setup.optimizer.stateDict().scalars);
    assert.equal(step(p, poison), false);
    assert.deepEqual(weights(p.setup.allParams), before);
    assert.equal(JSON.stringify(p.setup.optimizer.stateDict().scalars), adamBefore);
    assert.equal(p.scaling!.scaler.getScale(), 128);
    assert.equal(p.scaling!.skippedSteps, 1);
    for (const q of p.setup.allParams) assert.ok(!q.grad || noGrad(() => q.grad!.abs().sum().item()) === 0, 'gradients zeroed after a skipped step');
    // The next clean step updates again.
    assert.equal(step(p), true);
    assert.notDeepEqual(weights(p.setup.allParams), before);
  }
});

test('growthInterval clean steps in a row double the scale; a skipped step restarts the count', () => {
  const p = parts({ enabled: 'on', initScale: 8, growthInterval: 2 });
  step(p);
  assert.equal(p.scaling!.scaler.getScale(), 8);
  step(p);
  assert.equal(p.scaling!.scaler.getScale(), 16);
  step(p);
  step(p, Infinity);
  assert.equal(p.scaling!.scaler.getScale(), 8);
  step(p);
  assert.equal(p.scaling!.scaler.getScale(), 8, 'one clean step after the skip: not yet');
  step(p);
  assert.equal(p.scaling!.scaler.getScale(), 16);
});

test('a scale that backs off below 2^-24 is a divergence error naming the step', () => {
  const p = parts({ enabled: 'on', initScale: MIN_LOSS_SCALE });
  tidy(() => p.pipeline.backward(p.loss.forward(p.model.forward(x), y)));
  noGrad(() => tidy(() => p.setup.networkParams[0]![1].grad!.narrow(0, 0, 1).fill_(Infinity)));
  assert.equal(p.pipeline.transform(), false);
  assert.throws(
    () => p.pipeline.step({ epoch: 3, step: 2, globalStep: 51, lr: 1e-2 }),
    (e: unknown) => e instanceof DivergenceError && /epoch 3, step 2 \(step 52 of the run\).*inf or NaN at every loss scale/.test((e as Error).message),
  );
});

test("lossScaling 'auto' is on exactly for fp16; 'on' and 'off' as said", () => {
  const o = parseRunConfig({ dataset: { name: 'mnist' }, model: { name: 'mlp' } }).optimizer.lossScaling;
  assert.deepEqual(o, { enabled: 'auto', initScale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000 });
  assert.equal(buildLossScaling(o, 'fp32'), null);
  assert.equal(buildLossScaling(o, 'bf16'), null);
  assert.equal(buildLossScaling(o, 'fp16')!.scaler.getScale(), 65536);
  assert.ok(buildLossScaling({ ...o, enabled: 'on' }, 'fp32'));
  assert.equal(buildLossScaling({ ...o, enabled: 'off' }, 'fp16'), null);
  assert.throws(
    () => parseRunConfig({ dataset: { name: 'mnist' }, model: { name: 'mlp' }, optimizer: { lossScaling: { growthFactor: 1 } } }),
    /optimizer\.lossScaling\.growthFactor/,
  );
});
