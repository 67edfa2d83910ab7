// Data-parallel training on torch.distributed (c10d): rendezvous, process groups, collectives.
export {
  ProcessGroup,
  DEFAULT_TIMEOUT_MS,
  type Backend,
  type ReduceOp,
  type ProcessGroupOptions,
  type FromEnvOptions,
  type PendingAllReduce,
} from './process-group.js';
export { Store, type RendezvousOptions } from './rendezvous.js';
export { allGatherWithGrad } from './all-gather-grad.js';
export { readLaunchEnv, isDistributedLaunch, type LaunchEnv } from './launch-env.js';
export { DistributedError } from './errors.js';
export { launchLocal, freeLoopbackPort, type LaunchOptions, type LaunchResult, type RankExit } from './launcher.js';
export {
  GradientReducer,
  planBuckets,
  DEFAULT_BUCKET_BYTES,
  DEFAULT_FIRST_BUCKET_BYTES,
  type Bucket,
  type GradientReducerOptions,
} from './gradient-reducer.js';
export { ranksDifferingFromRank0 } from './rank-agreement.js';
export { checkSameRun, canonicalJson, configDifferences, type RunIdentity } from './run-check.js';
export { codeVersion } from './code-version.js';
export { broadcastNumbers } from './broadcast-values.js';
export { broadcastCoalesced } from './broadcast-coalesced.js';
export { syncBatchNorm, allReduceSumWithGrad } from './sync-batchnorm.js';
