// The index layer: a persistent ANN index of embeddings with item metadata, and the run embedder that fills it.
export * from './model-identity.js';
export * from './vector-index.js';
export * from './embedder.js';
export * from './exact.js';
export * from './item-sources.js';
export * from './query-embedding.js';
