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
export { trainMlrc, MLRC_FOLDS, type MlrcResult, type MlrcOptions, type MlrcCallback } from './mlrc.js';
export { loadRun, MODEL_FILE, PROXIES_FILE, MLRC_RESULTS_FILE, type LoadedRun } from './run-files.js';
export { buildGradientPipeline, GradientPipeline, type GradientStage } from './gradient-pipeline.js';
export * from './hooks/index.js';
export type { ValidationMetrics, StopReason, TestEmbeddings } from './run-types.js';
