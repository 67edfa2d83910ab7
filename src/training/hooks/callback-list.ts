// Runs a run's callbacks in order (the trainer's own, then the user's) and collects what they ask for: fields
// for the epoch record, a stop, their checkpoint parts.
import type { EpochRecord, TestEmbeddings, TrainResult, ValidationMetrics } from '../run-types.js';
import type { CheckpointPart, StepContext, StepEndContext, TrainCallback, TrainContext } from './callback.js';

export interface StopRequest {
  /** The callback's name. */
  by: string;
  message?: string;
}

export interface CallbackSet {
  /** The trainer's own: their checkpoint parts sit at the checkpoint's top level (its format). */
  builtin: readonly TrainCallback[];
  /** The user's: their checkpoint parts go under 'callbacks' / callbacks.<name>.*. */
  user: readonly TrainCallback[];
}

export class CallbackList {
  readonly all: readonly TrainCallback[];
  /** The first stop asked for since the run began, or null. */
  stopRequest: StopRequest | null = null;
  private readonly stepHooks: { after: TrainCallback[]; before: TrainCallback[]; end: TrainCallback[] };

  constructor(readonly set: CallbackSet) {
    this.all = [...set.builtin, ...set.user];
    const seen = new Set<string>();
    for (const c of this.all) {
      if (typeof c.name !== 'string' || c.name === '') throw new Error(`a training callback has no name (give each callback a unique 'name')`);
      if (seen.has(c.name)) throw new Error(`two training callbacks are named '${c.name}': callback names must be unique (they key the checkpoint state)`);
      seen.add(c.name);
    }
    this.stepHooks = {
      after: this.all.filter((c) => c.afterBackward),
      before: this.all.filter((c) => c.beforeOptimizerStep),
      end: this.all.filter((c) => c.onStepEnd),
    };
  }

  private stopper(c: TrainCallback) {
    return (message?: string) => {
      this.stopRequest ??= { by: c.name, ...(message !== undefined ? { message } : {}) };
    };
  }

  async trainBegin(ctx: TrainContext): Promise<void> {
    for (const c of this.all) await c.onTrainBegin?.(ctx);
  }

  async epochBegin(ctx: TrainContext): Promise<void> {
    for (const c of this.all) await c.onEpochBegin?.(ctx);
  }

  afterBackward(ctx: () => StepContext): void {
    if (!this.stepHooks.after.length) return;
    const x = ctx();
    for (const c of this.stepHooks.after) c.afterBackward!(x);
  }

  beforeOptimizerStep(ctx: () => StepContext): void {
    if (!this.stepHooks.before.length) return;
    const x = ctx();
    for (const c of this.stepHooks.before) c.beforeOptimizerStep!(x);
  }

  stepEnd(ctx: () => StepEndContext): void {
    if (!this.stepHooks.end.length) return;
    const x = ctx();
    for (const c of this.stepHooks.end) c.onStepEnd!(x);
  }

  /** Calls onValidation in order; returns the fields they add to the epoch record. */
  async validation(ctx: TrainContext, validation: ValidationMetrics): Promise<Partial<EpochRecord>> {
    const extra: Partial<EpochRecord> = {};
    for (const c of this.all) {
      const r = await c.onValidation?.({ ...ctx, validation, stop: this.stopper(c) });
      if (r) Object.assign(extra, r);
    }
    return extra;
  }

  async epochEnd(ctx: TrainContext, record: EpochRecord): Promise<void> {
    for (const c of this.all) await c.onEpochEnd?.({ ...ctx, record, stop: this.stopper(c) });
  }

  async trainEnd(ctx: TrainContext, result: TrainResult, test: TestEmbeddings | undefined): Promise<void> {
    for (const c of this.all) await c.onTrainEnd?.({ ...ctx, result, ...(test ? { test } : {}) });
  }

  /** Checkpoint parts: the trainer's own in order, and the user's by name (only those with state). */
  checkpointParts(): { builtin: CheckpointPart[]; user: Map<string, CheckpointPart> } {
    const builtin = this.set.builtin.flatMap((c) => (c.checkpointState ? [c.checkpointState()] : []));
    const user = new Map(this.set.user.flatMap((c) => (c.checkpointState ? [[c.name, c.checkpointState()] as const] : [])));
    return { builtin, user };
  }

  /** Calls every close(), even when one throws (a failing close only warns: it must not hide the run's own error). */
  close(): void {
    for (const c of this.all) {
      try {
        c.close?.();
      } catch (e) {
        process.stderr.write(`warning: training callback '${c.name}' failed to close: ${(e as Error).message}\n`);
      }
    }
  }
}
