// A rank of train.test.ts: train() on small in-memory data (an MLP, without BatchNorm unless CCP_DML_TEST_SYNC_BN, ccp/contrastive, 3
// epochs of 3 steps), distributed when started as a rank of 2, a plain single process otherwise. Prints the
// epoch records, the test metrics and (rank 0) the weights of model.safetensors.
import { join } from 'node:path';
import { loadSafetensors } from '../../src/engine/serialization/index.js';
import { train } from '../../src/training/trainer.js';
import { parseRunConfig } from '../../src/training/config.js';
import { joinTestGroup } from './rank-group.js';
import { memoryDataset, MEMORY_TRANSFORM, IMAGE_SIZE } from './memory-data.js';

const runDir = process.env.CCP_DML_TEST_RUN_DIR;
if (!runDir) process.exit(0);
const group = process.env.WORLD_SIZE ? joinTestGroup() : null;
const config = parseRunConfig({
  name: 'dist',
  seed: 4,
  dataset: { name: 'folder', root: '/unused', imageSize: IMAGE_SIZE, channels: 1, normalization: 'unit' },
  // CCP_DML_TEST_SYNC_BN=1: BatchNorm after the hidden layer, synchronised over the ranks.
  model:
    process.env.CCP_DML_TEST_SYNC_BN === '1'
      ? { name: 'mlp', embeddingDim: 4, options: { hidden: [16], batchNorm: true }, syncBatchNorm: true }
      : { name: 'mlp', embeddingDim: 4, options: { hidden: [16] } },
  loss: { name: process.env.CCP_DML_TEST_LOSS ?? 'ccp/contrastive' },
  ccp: { proxiesPerClass: 2, poolSize: 2, patience: 1, lambda: 0.01 },
  optimizer: { name: 'sgd', lr: 0.05, clipNorm: null, clipValue: null },
  training: {
    classesPerBatch: 4,
    samplesPerClass: 2,
    stepsPerEpoch: 3,
    maxEpochs: Number(process.env.CCP_DML_TEST_EPOCHS ?? 3),
    evalBatchSize: 5,
    prefetchBatches: 0,
  },
  evaluation: { recallAt: [1, 2] },
});
const data = { train: memoryDataset(4, 6, 1), validation: memoryDataset(4, 3, 2), test: { query: memoryDataset(4, 3, 3) }, transform: MEMORY_TRANSFORM };
const stopAfter = process.env.CCP_DML_TEST_STOP_AFTER;
const r = await train(config, {
  runDir,
  data,
  quiet: true,
  resume: process.env.CCP_DML_TEST_RESUME === '1',
  ...(stopAfter ? { stopAfterEpochs: Number(stopAfter) } : {}),
  ...(group ? { distributed: { group } } : {}),
});
const file = group && group.rank !== 0 ? null : loadSafetensors(join(runDir, 'model.safetensors'));
console.log(
  JSON.stringify({
    history: r.history.map((h) => ({ loss: h.loss, validation: h.validation, ccp: h.ccp })),
    test: r.test ? { mapAtR: r.test.mapAtR, precisionAt1: r.test.precisionAt1 } : null,
    stopReason: r.stopReason,
    warnings: r.warnings,
    weights: file ? [...file.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, t]) => [n, t.toArray()]) : null,
  }),
);
group?.destroy();
