// DML losses: shared machinery (N(v), distances, masks, reducers), the losses of spec §3, XBM, presets,
// and the list of loss names with their constructors (createLoss, which adds wrappers and miners, is in miners/).
export type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
export * from './normalization.js';
export * from './distances.js';
export * from './masks.js';
export * from './reducers.js';
export * from './logsumexp.js';
export * from './pairs.js';
export * from './proxies.js';
export * from './proxy_loss.js';
export * from './presets.js';
export * from './contrastive.js';
export * from './original_contrastive.js';
export * from './triplet.js';
export * from './multi_similarity.js';
export * from './proxy_anchor.js';
export * from './proxy_nca.js';
export * from './soft_triple.js';
export * from './normalized_softmax.js';
export * from './arcface.js';
export * from './cosface.js';
export * from './temperature_pair_loss.js';
export * from './ntxent.js';
export * from './supcon.js';
export * from './circle.js';
export * from './xbm.js';
export * from './registry.js';
