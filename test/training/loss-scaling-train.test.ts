// Loss scaling through train() on the CPU in float32 (optimizer.lossScaling.enabled 'on'; fp16 needs CUDA): an inf
// injected into a gradient skips that step and halves the scale, growthInterval clean steps double it, the epoch
// records say so, and a stopped-and-resumed run continues with the scale of a straight run (same records, same
// validation metrics); a checkpoint without a valid scale is refused on resume.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { noGrad, tidy } from '../../src/engine/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/engine/serialization/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData, type RunData } from '../../src/training/data-setup.js';
import type { TrainCallback } from '../../src/training/hooks/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('loss-scaling-train');

const config = parseRunConfig({
  name: 'loss-scaling',
  seed: 5,
  outputDir: tmp,
  dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 40 },
  model: { name: 'small_cnn', embeddingDim: 8, options: { channels: [4, 8] } },
  loss: { name: 'contrastive' },
  optimizer: { lr: 2e-3, lossScaling: { enabled: 'on', initScale: 1024, growthInterval: 2 } },
  training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 3, maxEpochs: 3, earlyStopPatience: 10, evalBatchSize: 128 },
});

let shared: RunData | null = null;
const data = async () => (shared ??= await prepareData(config.dataset, 5));

/** Puts an inf into the first weight's gradient after backward at the given steps of the run (1-based). */
function infAt(steps: number[]): TrainCallback {
  return {
    name: 'inject-inf',
    afterBackward: (ctx) => {
      if (!steps.includes(ctx.step + 1)) return;
      const g = ctx.model.parameters()[0]!.grad!;
      noGrad(() => tidy(() => g.narrow(0, 0, 1).fill_(Infinity)));
    },
  };
}

const EXPECTED = [
  // steps 1-3 clean: the scale doubles after step 2
  { scale: 2048, skippedSteps: 0, skippedTotal: 0 },
  // step 4 has an inf: skipped, halved; steps 5-6 clean: doubled again
  { scale: 2048, skippedSteps: 1, skippedTotal: 1 },
  // steps 7-8 clean: doubled; step 9 starts the next count
  { scale: 4096, skippedSteps: 0, skippedTotal: 1 },
];

test('an injected inf skips its step and halves the scale, clean steps grow it; a resumed run keeps the scale', { timeout: 300_000 }, async () => {
  const straight = await train(config, { runDir: join(tmp, 'straight'), quiet: true, data: await data(), callbacks: [infAt([4])] });
  assert.deepEqual(
    straight.history.map((h) => h.lossScale),
    EXPECTED,
  );

  const dir = join(tmp, 'resumed');
  const first = await train(config, { runDir: dir, quiet: true, data: await data(), callbacks: [infAt([4])], stopAfterEpochs: 1 });
  assert.equal(first.stopReason, 'interrupted');
  const resumed = await train(config, { runDir: dir, resume: true, quiet: true, data: await data(), callbacks: [infAt([4])] });
  assert.deepEqual(
    resumed.history.map((h) => h.lossScale),
    EXPECTED,
  );
  assert.deepEqual(
    resumed.history.map((h) => h.validation.mapAtR),
    straight.history.map((h) => h.validation.mapAtR),
  );
});

test('without an inf the run equals the same run without loss scaling (power-of-two scale), except for the records', { timeout: 300_000 }, async () => {
  const scaled = await train(config, { runDir: join(tmp, 'scaled'), quiet: true, data: await data() });
  const plain = await train(
    { ...config, optimizer: { ...config.optimizer, lossScaling: { ...config.optimizer.lossScaling, enabled: 'auto' } } },
    { runDir: join(tmp, 'plain'), quiet: true, data: await data() },
  );
  assert.equal(plain.history[0]!.lossScale, undefined);
  assert.deepEqual(scaled.history.at(-1)!.lossScale, { scale: 1024 * 2 ** 4, skippedSteps: 0, skippedTotal: 0 });
  assert.deepEqual(
    scaled.history.map((h) => h.validation.mapAtR),
    plain.history.map((h) => h.validation.mapAtR),
  );
  assert.equal(scaled.test!.mapAtR, plain.test!.mapAtR);
});

test('a checkpoint whose loss scale is missing or not a positive number is refused on resume, naming the entry', { timeout: 300_000 }, async () => {
  const dir = join(tmp, 'tampered');
  await train(config, { runDir: dir, quiet: true, data: await data(), stopAfterEpochs: 1 });
  const ckpt = join(dir, 'checkpoint.safetensors');
  const original = loadSafetensors(ckpt);
  const meta = { ...original.metadata };
  const tensors = new Map(original);
  for (const [tamper, expect] of [
    [(st: Record<string, unknown>) => delete st.lossScaling, /entry 'lossScaling' is missing \(the loss scale/],
    [
      (st: Record<string, unknown>) => ((st.lossScaling as { scaler: { scale: number } }).scaler.scale = -2),
      /entry 'lossScaling\.scaler\.scale' is -2, not a positive finite number/,
    ],
  ] as const) {
    const state = JSON.parse(meta.state!) as Record<string, unknown>;
    tamper(state);
    saveSafetensors(ckpt, tensors, { ...meta, state: JSON.stringify(state) });
    await assert.rejects(train(config, { runDir: dir, resume: true, quiet: true, data: await data() }), expect);
  }
  original.dispose();
});
