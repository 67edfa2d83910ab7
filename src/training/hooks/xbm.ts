// XBM's memory switch: a loss with a `training` flag (the cross-batch memory) enqueues embeddings only during
// the training steps of an epoch, not during the validation and CCP pool embedding that follow.
import type { MetricLoss } from '../../losses/index.js';
import type { TrainCallback } from './callback.js';

interface MemoryLoss {
  training: boolean;
}

export function hasMemorySwitch(loss: MetricLoss): boolean {
  return typeof (loss as Partial<MemoryLoss>).training === 'boolean';
}

export function xbmHook(loss: MetricLoss): TrainCallback {
  const memory = loss as unknown as MemoryLoss;
  return {
    name: 'xbm',
    onEpochBegin: () => {
      memory.training = true;
    },
    onValidation: () => {
      memory.training = false;
    },
  };
}
