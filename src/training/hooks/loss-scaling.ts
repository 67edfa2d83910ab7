// Dynamic loss scaling's share of a run (training/loss-scaling.ts does the scaling inside the gradient pipeline):
// the scale and the skipped-step count go into each epoch record and the checkpoint's 'lossScaling' entry, so a
// resumed run continues with the scale (and growth count) a straight run would have.
import type { LossScaling, LossScalingState } from '../loss-scaling.js';
import type { EpochRecord } from '../run-types.js';
import type { CheckpointPart, RestoredPart, TrainCallback } from './callback.js';

export class LossScalingHook implements TrainCallback {
  readonly name = 'loss-scaling';
  /** Skipped steps at the start of the epoch, so the record can say how many this epoch skipped. */
  private skippedBefore = 0;

  constructor(readonly scaling: LossScaling) {}

  onEpochBegin(): void {
    this.skippedBefore = this.scaling.skippedSteps;
  }

  onValidation(): Partial<EpochRecord> {
    const s = this.scaling;
    return { lossScale: { scale: s.scaler.getScale(), skippedSteps: s.skippedSteps - this.skippedBefore, skippedTotal: s.skippedSteps } };
  }

  checkpointState(): CheckpointPart {
    return { state: { lossScaling: this.scaling.stateDict() } };
  }

  restoreState(saved: RestoredPart): void {
    const s = (saved.state as { lossScaling?: LossScalingState | null }).lossScaling;
    if (s) this.scaling.loadStateDict(s);
  }
}
