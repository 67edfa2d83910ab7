// Relative cost of one training step per method (model forward/backward, loss, then the trainer's gradient
// pipeline: weight decay, CCP's proximal term, clipping, Adam step; on random inputs of the study's shapes), to
// extrapolate a measured run's speed to methods it did not run
// (SoftTriple's 10 centres per class, for example, cost several times a C2 step).
import { randn, int64, tidy, manualSeed, setNumThreads } from '../../src/engine/index.js';
import { buildLoss, buildModel, buildOptimizer } from '../../src/training/build.js';
import { buildGradientPipeline } from '../../src/training/gradient-pipeline.js';
import type { StudyMethod } from './methods.js';
import { runConfig, type StudySettings } from './study.js';

/**
 * Seconds per training step of each method: the fastest of `steps` timed steps after 2 warm-up steps (the
 * minimum is the least disturbed by other processes on a shared machine).
 */
export function measureStepCosts(s: StudySettings, methods: readonly StudyMethod[], numClasses: number, steps = 8): Record<string, number> {
  const out: Record<string, number> = {};
  if (s.threads) setNumThreads(s.threads);
  for (const m of methods) {
    const cfg = runConfig(s, m, 0, 1e-3, { kind: 'steps', value: 1000 }, `cost-${m.id}`);
    manualSeed(0);
    const model = buildModel(cfg, [1, s.imageSize, s.imageSize]);
    const loss = buildLoss(cfg, numClasses);
    const setup = buildOptimizer(cfg, model, loss);
    const pipeline = buildGradientPipeline(cfg.optimizer, setup, loss);
    const B = cfg.training.classesPerBatch * cfg.training.samplesPerClass;
    const labels = Array.from({ length: B }, (_, i) => (i % cfg.training.classesPerBatch) * Math.floor(numClasses / cfg.training.classesPerBatch));
    const times: number[] = [];
    for (let k = 0; k < steps + 2; k++) {
      const t0 = performance.now();
      tidy(() => {
        loss.forward(model.forward(randn([B, 1, s.imageSize, s.imageSize])), int64(labels)).backward();
      });
      pipeline.apply();
      if (k >= 2) times.push((performance.now() - t0) / 1000);
    }
    out[m.id] = Math.min(...times);
    (loss as { dispose?: () => void }).dispose?.();
  }
  return out;
}
