// The trainer's own callbacks for a run, in the order they run: the metrics log, XBM's memory switch, CCP's
// projection controller, early stopping with the best weights, the learning-rate schedule, the progress display.
// The order matters where two act on the same event: CCP projects before early stopping copies the best
// weights (so the copy holds the re-initialised proxies), the epoch line is logged before CCP's projection line.
import type { ImageLoader } from '../../data/index.js';
import { isCcpLoss, type CcpPoolPreprocessing } from '../../ccp/index.js';
import type { MetricLoss } from '../../losses/index.js';
import type { EmbeddingNet } from '../../models/index.js';
import type { RunConfig } from '../config.js';
import type { RunData } from '../data-setup.js';
import type { OptimizerSetup } from '../build.js';
import type { EpochSchedule } from '../schedule.js';
import type { TrainResult } from '../run-types.js';
import type { TrainCallback } from './callback.js';
import type { EmbedFn } from '../sharded-embed.js';
import { CcpHook } from './ccp.js';
import { EarlyStoppingHook } from './early-stopping.js';
import { metricsLogHook } from './metrics-log.js';
import { progressHook } from './progress.js';
import { ScheduleHook } from './schedule.js';
import { hasMemorySwitch, xbmHook } from './xbm.js';

export interface BuiltinParts {
  cfg: RunConfig;
  model: EmbeddingNet;
  loss: MetricLoss;
  data: RunData;
  setup: OptimizerSetup;
  schedule: EpochSchedule | null;
  /** The training split with the training or the test preprocessing, for CCP's candidate pools (made only for CCP runs). */
  poolImages: (preprocessing: CcpPoolPreprocessing) => ImageLoader;
  execution: TrainResult['execution'];
  quiet: boolean;
  /** Embedding of CCP's candidate pools (default embedItems; sharded in a distributed run). */
  embed?: EmbedFn;
}

export interface BuiltinCallbacks {
  list: TrainCallback[];
  /** The trainer reads the best epoch and restores the best weights through it. */
  early: EarlyStoppingHook;
  ccp: CcpHook | null;
}

export function builtinCallbacks(p: BuiltinParts): BuiltinCallbacks {
  const t = p.cfg.training;
  const ccp = isCcpLoss(p.loss)
    ? new CcpHook({
        controller: p.loss.controller,
        model: p.model,
        data: p.data,
        parameters: p.setup.networkParams,
        poolImages: p.poolImages(p.loss.options.poolPreprocessing),
        seed: p.cfg.seed,
        evalBatchSize: t.evalBatchSize,
        embed: p.embed,
      })
    : null;
  const early = new EarlyStoppingHook(t.earlyStopPatience, t.minDelta, p.model, p.loss);
  const list: TrainCallback[] = [
    metricsLogHook(t.logEverySteps, p.execution),
    ...(hasMemorySwitch(p.loss) ? [xbmHook(p.loss)] : []),
    ...(ccp ? [ccp] : []),
    early,
    ...(p.schedule ? [new ScheduleHook(p.schedule)] : []),
    progressHook(t.stepsPerEpoch, t.maxEpochs, !p.quiet),
  ];
  return { list, early, ccp };
}
