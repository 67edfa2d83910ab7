// The metrics log's records as a callback: the execution record (precision, memory layout, threads) at the
// start, the mean loss every `logEverySteps` steps, each epoch's record, and the test metrics at the end.
import type { RunConfig } from '../config.js';
import type { TrainResult } from '../run-types.js';
import type { TrainCallback } from './callback.js';

export function metricsLogHook(logEverySteps: RunConfig['training']['logEverySteps'], execution: TrainResult['execution']): TrainCallback {
  let windowSum = 0;
  return {
    name: 'metrics-log',
    onTrainBegin: (ctx) => ctx.log({ kind: 'execution', epoch: ctx.epoch, ...execution }),
    onEpochBegin: () => {
      windowSum = 0;
    },
    onStepEnd: (ctx) => {
      windowSum += ctx.value;
      if (logEverySteps !== null && ctx.stepInEpoch % logEverySteps === 0) {
        ctx.log({ kind: 'step', epoch: ctx.epoch, step: ctx.step, loss: windowSum / logEverySteps, lr: ctx.lr });
        windowSum = 0;
      }
    },
    onEpochEnd: (ctx) => ctx.log({ kind: 'epoch', ...ctx.record }),
    onTrainEnd: (ctx) => {
      if (ctx.test) ctx.log({ kind: 'test', epoch: ctx.result.bestEpoch, test: ctx.result.test });
    },
  };
}
