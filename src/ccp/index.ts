// CCP: proxy layout, greedy K-center, the ccp(baseLoss) wrapper, the proximal regulariser, the projection
// controller and covering-radius diagnostics.
export * from './options.js';
export * from './kcenter.js';
export * from './proxies.js';
export * from './regularizer.js';
export * from './controller.js';
export * from './loss.js';
export * from './covering.js';
