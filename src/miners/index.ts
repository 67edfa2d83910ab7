// Miners: choose the informative pairs / triplets of a batch for a pair loss (PML's miners layer).
export * from './base.js';
export * from './batch_hard.js';
export * from './triplet_margin.js';
export * from './multi_similarity.js';
export * from './mined_loss.js';
export * from './registry.js';
export * from './loss-registry.js';
