// The execution levers (precision, memory layout) are part of a run's config: recorded in metrics.jsonl and
// the result, kept across an interruption and resume, and overridable when a finished run is loaded.
import test from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cudaIsAvailable, resolvePrecision } from '../../src/engine/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData } from '../../src/training/data-setup.js';
import { loadRun, overrideRunExecution } from '../../src/training/run-files.js';
import { buildModel } from '../../src/training/build.js';

test('precision and memory format: recorded, kept across interrupt + resume, overridden on load', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccp-exec-run-'));
  try {
    const cfg = parseRunConfig({
      name: 'exec',
      seed: 1,
      outputDir: tmp,
      dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 30, maxClasses: 4 },
      model: { name: 'small_cnn', embeddingDim: 8, options: { channels: [4, 8] }, precision: 'bf16' },
      loss: { name: 'contrastive' },
      training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 3, maxEpochs: 2, evalBatchSize: 64 },
    });
    const data = await prepareData(cfg.dataset, cfg.seed);
    const runDir = join(tmp, 'run');
    const first = await train(cfg, { runDir, quiet: true, data, stopAfterEpochs: 1 });
    assert.deepEqual({ p: first.execution.precision, m: first.execution.memoryFormat }, { p: 'bf16', m: 'channels_last' });
    // device 'auto' (the default) resolves to cpu here, and the record says why.
    assert.equal(first.execution.device, 'cpu');
    assert.match(first.execution.deviceReason, /^device: auto -> cpu \(/);
    const resumed = await train(cfg, { runDir, quiet: true, data, resume: true });
    assert.equal(resumed.execution.precision, 'bf16');
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; precision?: string; memoryFormat?: string });
    const exec = lines.filter((l) => l.kind === 'execution');
    assert.equal(exec.length, 2, 'one execution record per start');
    assert.ok(exec.every((l) => l.precision === 'bf16' && l.memoryFormat === 'channels_last'));
    assert.ok(
      exec.every((l) => (l as { device?: string }).device === 'cpu'),
      'the execution record names the device',
    );
    const final = JSON.parse(readFileSync(join(runDir, 'final-metrics.json'), 'utf8')) as { execution: { precision: string } };
    assert.equal(final.execution.precision, 'bf16');

    assert.equal(loadRun(runDir).model.precision, 'bf16');
    overrideRunExecution({ precision: 'fp32' });
    try {
      assert.equal(loadRun(runDir).model.precision, 'fp32');
    } finally {
      overrideRunExecution({});
    }
    assert.throws(() => overrideRunExecution({ precision: 'half' as never }), /--precision: precision must be 'fp32', 'bf16', 'fp16' or 'auto', got "half"/);
    assert.throws(() => overrideRunExecution({ precision: 'fp16' }), /--precision: precision 'fp16' needs a CUDA device/);

    // --device: the model loads where asked (default the CPU); an unusable or unknown device is refused naming
    // the option, and fp16 is checked against the device asked for.
    const gpu = cudaIsAvailable();
    try {
      overrideRunExecution({ device: 'cpu' });
      assert.equal(loadRun(runDir).model.device, 'cpu');
      overrideRunExecution({ device: 'auto', precision: 'fp32' });
      const auto = loadRun(runDir).model;
      assert.deepEqual({ d: auto.device, p: auto.precision }, { d: gpu ? 'cuda:0' : 'cpu', p: 'fp32' });
    } finally {
      overrideRunExecution({});
    }
    assert.throws(() => overrideRunExecution({ device: 'gpu' as never }), /--device: expected 'cpu', 'cuda', 'cuda:N' or 'auto', got 'gpu'/);
    assert.throws(
      () => overrideRunExecution({ precision: 'fp16', device: 'cpu' }),
      /--precision: precision 'fp16' needs a CUDA device .*this model is on 'cpu'/,
    );
    if (!gpu) {
      assert.throws(() => overrideRunExecution({ device: 'cuda' }), /--device is 'cuda', but CUDA is unavailable/);
      assert.throws(() => loadRun(runDir, undefined, { device: 'cuda:1' }), /loadRun's device is 'cuda:1', but CUDA is unavailable/);
    }
    const perCall = loadRun(runDir, undefined, { device: 'cpu', precision: 'fp32' }).model;
    assert.deepEqual({ d: perCall.device, p: perCall.precision }, { d: 'cpu', p: 'fp32' });

    // A run trained in fp16 on a GPU (its config says so) still loads on the CPU, in the CPU's 'auto' precision.
    const fp16Run = join(tmp, 'fp16-run');
    mkdirSync(fp16Run);
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { model: { precision: string } };
    config.model.precision = 'fp16';
    writeFileSync(join(fp16Run, 'config.json'), JSON.stringify(config));
    copyFileSync(join(runDir, 'model.safetensors'), join(fp16Run, 'model.safetensors'));
    assert.equal(loadRun(fp16Run).model.precision, resolvePrecision('auto'));
    assert.throws(() => loadRun(fp16Run, undefined, { precision: 'fp16' }), /model\.precision: precision 'fp16' needs a CUDA device/);
    assert.throws(() => parseRunConfig({ model: { precision: 'half' } }), /model\.precision/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('precision fp16 is a CUDA-only choice: on the CPU the config key is named', () => {
  const cfg = parseRunConfig({
    dataset: { name: 'mnist', imageSize: 28, channels: 1 },
    model: { name: 'small_cnn', embeddingDim: 8, options: { channels: [4, 8] }, precision: 'fp16' },
    loss: { name: 'contrastive' },
  });
  assert.throws(() => buildModel(cfg, [1, 28, 28]), /model\.precision: precision 'fp16' needs a CUDA device .*'cpu'/);
});

test('frozen BatchNorm folding: on by default, recorded, model.foldBatchNorm false turns it off (also for the loaded run)', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccp-exec-fold-'));
  try {
    const config = (fold?: boolean) =>
      parseRunConfig({
        name: 'fold',
        seed: 1,
        outputDir: tmp,
        dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 20, maxClasses: 4 },
        model: {
          name: 'small_cnn',
          embeddingDim: 8,
          options: { channels: [4, 8] },
          freezeBatchNorm: true,
          ...(fold === undefined ? {} : { foldBatchNorm: fold }),
        },
        loss: { name: 'contrastive' },
        training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 2, maxEpochs: 1, evalBatchSize: 64 },
      });
    assert.equal(config().model.foldBatchNorm, true);
    const data = await prepareData(config().dataset, 1);
    for (const fold of [undefined, false] as const) {
      const runDir = join(tmp, `run-${String(fold)}`);
      const r = await train(config(fold), { runDir, quiet: true, data });
      const expected = fold !== false;
      assert.equal(r.execution.frozenBatchNormFolded, expected);
      const exec = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; frozenBatchNormFolded?: boolean })
        .find((l) => l.kind === 'execution');
      assert.equal(exec?.frozenBatchNormFolded, expected);
      assert.equal(loadRun(runDir).model.batchNormFolding, expected);
    }
    assert.throws(() => parseRunConfig({ model: { foldBatchNorm: 'yes' } }), /model\.foldBatchNorm/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
