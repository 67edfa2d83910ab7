// The progress display as a callback: a bar per epoch on a TTY, one summary line per epoch.
import { TrainingProgress } from '../progress.js';
import type { EpochRecord } from '../run-types.js';
import type { EpochEndContext, StepEndContext, TrainCallback, TrainContext } from './callback.js';

const lastMetric = (history: readonly EpochRecord[]) => (history.length ? history[history.length - 1]!.validation.mapAtR : null);

export function progressHook(stepsPerEpoch: number, maxEpochs: number, enabled: boolean): TrainCallback {
  const progress = new TrainingProgress(stepsPerEpoch, maxEpochs, enabled);
  return {
    name: 'progress',
    onEpochBegin: (ctx: TrainContext) => progress.startEpoch(ctx.epoch, lastMetric(ctx.history)),
    onStepEnd: (ctx: StepEndContext) => progress.update({ epoch: ctx.epoch, step: ctx.stepInEpoch, loss: ctx.epochLoss, metric: lastMetric(ctx.history) }),
    onEpochEnd: ({ epoch, record }: EpochEndContext) =>
      progress.endEpoch(
        epoch,
        record.loss,
        { 'val MAP@R': record.validation.mapAtR, 'val P@1': record.validation.precisionAt1 },
        record.ccp?.projected ? `CCP projection t=${record.ccp.t}` : '',
      ),
    close: () => progress.stop(),
  };
}
