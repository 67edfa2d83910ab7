// The learning-rate schedule as a callback: stepped with each epoch's validation MAP@R; its state is the
// checkpoint's 'schedule' entry.
import type { EpochSchedule } from '../schedule.js';
import type { SchedulerState } from '../../engine/optim/index.js';
import type { CheckpointPart, RestoredPart, TrainCallback, ValidationContext } from './callback.js';

export class ScheduleHook implements TrainCallback {
  readonly name = 'lr-schedule';

  constructor(readonly schedule: EpochSchedule) {}

  onValidation(ctx: ValidationContext): void {
    this.schedule.step(ctx.validation.mapAtR);
  }

  checkpointState(): CheckpointPart {
    return { state: { schedule: this.schedule.stateDict() } };
  }

  restoreState(saved: RestoredPart): void {
    const s = (saved.state as { schedule: SchedulerState | null }).schedule;
    if (s) this.schedule.loadStateDict(s);
  }
}
