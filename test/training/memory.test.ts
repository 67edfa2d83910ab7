// The trainer's memory stays flat over many steps: no engine tensor leaks (liveTensors constant) and resident
// memory does not grow (the trainer lets Node-API finalizers run every step).
import test from 'node:test';
import assert from 'node:assert/strict';

import { parseRunConfig } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { tempDir } from '../helpers/tmp.js';

test('CCP training over 800 steps: constant live tensors, flat resident memory', { timeout: 600_000 }, async () => {
  const cfg = parseRunConfig({
    name: 'memory',
    seed: 1,
    outputDir: tempDir('mem'),
    dataset: { name: 'mnist', validation: 'samples', validationShare: 0.2, maxPerClass: 200 },
    model: { name: 'small_cnn', embeddingDim: 32, options: { channels: [16, 32] } },
    loss: { name: 'ccp/contrastive' },
    ccp: { proxiesPerClass: 4, poolSize: 7, patience: 1 },
    optimizer: { lr: 1e-3 },
    // minDelta 1: every problem ends after two epochs, so projections (pool embedding, K-center) run too.
    training: { classesPerBatch: 5, samplesPerClass: 8, stepsPerEpoch: 100, maxEpochs: 8, earlyStopPatience: 100, minDelta: 1, evalBatchSize: 256 },
  });
  const r = await train(cfg, { quiet: true });
  assert.equal(r.steps, 800);
  assert.equal(r.ccpProjections.length, 4);
  const h = r.history;
  const live = h.slice(1).map((e) => e.liveTensors);
  assert.deepEqual(
    live,
    live.map(() => live[0]),
    `live tensors per epoch: ${h.map((e) => e.liveTensors).join(' ')}`,
  );
  // The bug this guards against grew RSS ~300 MB per epoch (Node-API finalizers starved by a loop that never
  // yielded). The allocator keeps freed heap (trim threshold 1 GiB, see native/addon.cc), so a new high-water
  // mark, e.g. a projection coinciding with a checkpoint, can lift RSS once by tens of MB and stay: bound the
  // total growth over six epochs well below one epoch of the old leak.
  const rss = h.slice(1).map((e) => e.rssMB);
  const total = rss[rss.length - 1]! - rss[0]!;
  const shown = h.map((e) => e.rssMB).join(' ');
  assert.ok(total < 150, `resident memory grew ${total} MB from epoch 2 to ${h.length}: ${shown}`);
});
