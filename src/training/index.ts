// Training: config schema, presets, the trainer, the MLRC protocol.
export * from './config.js';
export { presets, type PresetName } from './presets.js';
export { prepareData, defaultOmniglotRoot, type RunData, type TestSet } from './data-setup.js';
export { buildModel, buildLoss, buildOptimizer, type OptimizerSetup } from './build.js';
export { embedItems, embeddingsTensor, type Embeddings } from './embed.js';
export { embedItemsSharded, gatherEmbeddings, shardBatches } from './sharded-embed.js';
export { EarlyStopping } from './early-stopping.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export { MetricsLog } from './metrics-log.js';
export { train, type TrainOptions, type TrainResult, type EpochRecord } from './trainer.js';
export { trainMlrc, MLRC_FOLDS, type MlrcResult } from './mlrc.js';
export * from './hooks/index.js';
export type { ValidationMetrics, StopReason, TestEmbeddings } from './run-types.js';
