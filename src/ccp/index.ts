// CCP (spec §1.6, §1.7, §2): chance-constrained proxies by iterative projections.
//
// - `ccp(baseLoss, {numClasses, dim, ...})` → CcpLoss: 0.1·L(X, X) + 1.0·L(X vs P), P = K proxies per class
//   laid out as rows r·C + c (`CcpProxySet`, the losses' `ProxySet` plus P_best and re-initialisation).
// - `loss.controller` (CcpController): onTrainBegin (initial K-center, λ = 0), applyRegularizer (the proximal
//   gradient λ_t(θ − θ_anchor) on network weights only), onEpochEnd (per-problem patience, θ_best / P_best snapshots,
//   projections), stateDict / loadStateDict, history of projections.
// - `greedyKCenter`, `selectProxies`, `poolSize`: proxy re-initialisation (spec §2.3).
// - `averageCoveringRadius`, `coveringRadius`: the covering diagnostics (spec §1.7).
//
// Metric timing: by default the controller decides on the current epoch's validation metric. Pass
// `laggedMetric: true` to reproduce the reference code, whose callback saw the previous epoch's value (0 at epoch 1).
export * from './options.js';
export * from './kcenter.js';
export * from './proxies.js';
export * from './regularizer.js';
export * from './controller.js';
export * from './loss.js';
export * from './covering.js';
