// Divergence is caught at the step it appears, for every loss, with epoch, step and learning rate; a
// collapse is reported as a warning.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { train } from '../../src/training/trainer.js';
import { buildModel } from '../../src/training/build.js';
import { transformFor } from '../../src/training/data-setup.js';
import { outputShape } from '../../src/data/index.js';
import { noGrad, manualSeed } from '../../src/engine/index.js';
import { saveModule } from '../../src/engine/serialization/index.js';
import { LOSS_NAMES, PAIR_LOSS_NAMES } from '../../src/losses/registry.js';
import { chancePrecisionAt1, chanceWarning, embeddingsCollapsed } from '../../src/training/divergence.js';
import { makeImageFolder, tempRoot, tinyConfig } from './fixtures.js';

const tmp = tempRoot('ccp-divergence-');
const images = await makeImageFolder(join(tmp, 'images'), 6, 4);

/** Weights for the tiny config's model with every value set by `fill(name)`. */
function weightsFile(name: string, fill: (tensorName: string) => number): string {
  const cfg = tinyConfig(images, tmp);
  manualSeed(1);
  const model = buildModel(cfg, outputShape(transformFor(cfg.dataset)));
  noGrad(() => {
    for (const [n, t] of model.stateDict()) if (t.dtype === 'float32') t.fill_(fill(n));
  });
  const path = join(tmp, `${name}.safetensors`);
  saveModule(path, model);
  model.dispose();
  return path;
}

test('NaN embeddings stop training at epoch 1, step 1 for every loss (and its ccp/ and xbm/ wrappers)', { timeout: 120_000 }, async () => {
  const nan = weightsFile('nan', () => NaN);
  const names = [...LOSS_NAMES, ...PAIR_LOSS_NAMES.map((n) => `ccp/${n}`), ...PAIR_LOSS_NAMES.map((n) => `xbm/${n}`)];
  for (const loss of names) {
    const cfg = tinyConfig(images, tmp, {
      name: `nan-${loss.replace('/', '-')}`,
      model: { pretrained: nan },
      loss: { name: loss },
      ccp: { proxiesPerClass: 1, poolSize: 2 },
    });
    await assert.rejects(
      train(cfg, { quiet: true }),
      /training diverged at epoch 1, step 1 \(step 1 of the run\): 16 of 16 embedding values are NaN or infinite; the learning rate is 0\.001 \(optimizer\.lr\)/,
      loss,
    );
  }
});

test('an exploding learning rate is caught at the step it breaks, before the update is applied', { timeout: 60_000 }, async () => {
  const cfg = tinyConfig(images, tmp, {
    name: 'explode',
    optimizer: { name: 'sgd', lr: 1e38, clipNorm: null, clipValue: null, weightDecay: 0 },
    training: { stepsPerEpoch: 10 },
  });
  await assert.rejects(train(cfg, { quiet: true }), (e: Error) => {
    assert.match(e.message, /training diverged at epoch 1, step ([2-9]|10) .*the learning rate is 1e\+38/);
    return true;
  });
});

test('a collapsed model (every embedding equal) is reported in the warnings, the log and final-metrics.json', { timeout: 60_000 }, async () => {
  // Zero weights and constant biases: every image maps to the same embedding; lr so small nothing moves.
  const flat = weightsFile('flat', (n) => (n.endsWith('bias') ? 0.5 : n.includes('running_var') ? 1 : 0));
  const cfg = tinyConfig(images, tmp, { name: 'collapse', model: { pretrained: flat }, optimizer: { lr: 1e-30, weightDecay: 0 } });
  const r = await train(cfg, { quiet: true });
  assert.ok(
    r.warnings.some((w) => /epoch 1: the \d+ validation embeddings are all equal \(the model collapsed/.test(w)),
    r.warnings.join('\n'),
  );
  assert.match(readFileSync(join(r.runDir, 'metrics.jsonl'), 'utf8'), /"kind":"warning".*collapsed/);
  assert.match(readFileSync(join(r.runDir, 'final-metrics.json'), 'utf8'), /collapsed/);
});

test('collapse and chance helpers on hand-computed cases', () => {
  assert.equal(embeddingsCollapsed(new Float32Array([1, 2, 1, 2, 1, 2]), 2), true);
  assert.equal(embeddingsCollapsed(new Float32Array([1, 2, 1, 2, 1, 2.01]), 2), false);
  assert.equal(embeddingsCollapsed(new Float32Array([1, 2]), 2), false, 'one row is not a collapse');
  // Classes of sizes 2 and 3: (2*1 + 3*2) / (5*4) = 0.4.
  assert.equal(chancePrecisionAt1(Int32Array.from([0, 0, 1, 1, 1])), 0.4);
  assert.match(
    chanceWarning({ epoch: 3, validation: { precisionAt1: 0.4 } }, 0.4) ?? '',
    /best validation P@1 \(0\.4000, epoch 3\) is no better than chance \(0\.4000\)/,
  );
  assert.equal(chanceWarning({ epoch: 3, validation: { precisionAt1: 0.41 } }, 0.4), null);
  assert.equal(chanceWarning(undefined, 0.4), null);
});
