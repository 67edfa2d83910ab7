// The gradient pipeline: which stages a config turns on, in the reference code's order, and that running it
// equals the hand-written sequence the trainer and the benchmarks used before (bit for bit).
import test from 'node:test';
import assert from 'node:assert/strict';
import { randn, int64, tidy, manualSeed, noGrad } from '../../src/engine/index.js';
import { addWeightDecayGrad, clipGradNorm, clipGradValue } from '../../src/engine/optim/index.js';
import { parseRunConfig, type RunConfigInput } from '../../src/training/config.js';
import { buildModel, buildLoss, buildOptimizer } from '../../src/training/build.js';
import { buildGradientPipeline } from '../../src/training/gradient-pipeline.js';

const CLASSES = 4;

function parts(over: Partial<RunConfigInput> = {}) {
  const cfg = parseRunConfig({
    dataset: { name: 'mnist', imageSize: 8, channels: 1 },
    model: { name: 'mlp', embeddingDim: 6 },
    loss: { name: 'ccp/contrastive' },
    ccp: { proxiesPerClass: 2, poolSize: 3 },
    optimizer: { name: 'adam', lr: 1e-2, weightDecay: 1e-2, clipNorm: 0.5, clipValue: 0.01 },
    ...over,
  });
  manualSeed(11);
  const model = buildModel(cfg, [1, 8, 8]);
  const loss = buildLoss(cfg, CLASSES);
  const setup = buildOptimizer(cfg, model, loss);
  return { cfg, model, loss, setup };
}

const names = (over: Partial<RunConfigInput> = {}) => {
  const p = parts(over);
  return buildGradientPipeline(p.cfg.optimizer, p.setup, p.loss).stages.map((s) => s.name);
};

test('stages follow the config: coupled decay, CCP proximal term, clip by norm, clip by value', () => {
  assert.deepEqual(names(), ['weight-decay', 'ccp-regularizer', 'clip-norm', 'clip-value']);
  // AdamW decays inside the optimiser; no weight decay, no clipping, no CCP: nothing left to do.
  assert.deepEqual(names({ loss: { name: 'contrastive' }, optimizer: { name: 'adamw', weightDecay: 1e-2, clipNorm: null, clipValue: null } }), []);
  assert.deepEqual(names({ loss: { name: 'contrastive' }, optimizer: { name: 'sgd', weightDecay: 0, clipNorm: 1, clipValue: null } }), ['clip-norm']);
});

test('one pipeline step equals the hand-written sequence, bit for bit, and reports the norm before clipping', () => {
  const x = randn([8, 1, 8, 8]);
  const y = int64([0, 0, 1, 1, 2, 2, 3, 3]);
  const run = (byPipeline: boolean) => {
    const { cfg, model, loss, setup } = parts();
    const theta = setup.networkParams.map(([, p]) => p);
    tidy(() => loss.forward(model.forward(x), y).backward());
    let norm = NaN;
    if (byPipeline) buildGradientPipeline(cfg.optimizer, setup, loss).apply((n) => (norm = n));
    else {
      addWeightDecayGrad(setup.decayParams, setup.gradientWeightDecay);
      (loss as unknown as { controller: { applyRegularizer(t: unknown): void } }).controller.applyRegularizer(theta);
      norm = clipGradNorm(setup.allParams, 0.5);
      clipGradValue(setup.allParams, 0.01);
      setup.optimizer.step();
      setup.optimizer.zeroGrad();
    }
    return { norm, weights: noGrad(() => setup.allParams.map((p) => Array.from(p.toFloat32Array()))) };
  };
  const a = run(true);
  const b = run(false);
  assert.ok(Number.isFinite(a.norm) && a.norm > 0, `norm ${a.norm}`);
  assert.equal(a.norm, b.norm);
  assert.deepEqual(a.weights, b.weights);
});
