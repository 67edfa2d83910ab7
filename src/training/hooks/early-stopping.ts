// Global early stopping with the best weights (spec 2.6): on each new best validation MAP@R the model and loss
// tensors are copied and model.safetensors is rewritten; when patience runs out the run stops; at the end the
// trainer restores the best copy before the test evaluation. Its checkpoint part: 'early', 'hasBest', best.*.
import { join } from 'node:path';
import { noGrad, keep, type Tensor } from '../../engine/index.js';
import { saveModule } from '../../engine/serialization/index.js';
import type { MetricLoss } from '../../losses/index.js';
import type { EmbeddingNet } from '../../models/index.js';
import { prefixed, section } from '../checkpoint.js';
import type { EarlyStoppingState } from '../early-stopping.js';
import { EarlyStopping } from '../early-stopping.js';
import { MODEL_FILE } from '../run-files.js';
import type { CheckpointPart, RestoredPart, TrainCallback, ValidationContext } from './callback.js';

export const EARLY_STOPPING = 'early-stopping';

export class EarlyStoppingHook implements TrainCallback {
  readonly name = EARLY_STOPPING;
  readonly early: EarlyStopping;
  /** Best weights so far (model and loss tensors), as kept clones. */
  private best: Map<string, Tensor> | null = null;

  constructor(
    patience: number,
    minDelta: number,
    private readonly model: EmbeddingNet,
    private readonly loss: MetricLoss,
  ) {
    this.early = new EarlyStopping(patience, minDelta);
  }

  onValidation(ctx: ValidationContext): void {
    if (this.early.update(ctx.epoch, ctx.validation.mapAtR)) {
      this.disposeBest();
      this.best = this.snapshot();
      if (ctx.writesFiles) saveModule(join(ctx.runDir, MODEL_FILE), this.model, { config: JSON.stringify(ctx.config), epoch: String(ctx.epoch) });
    }
    if (this.early.shouldStop) ctx.stop();
  }

  /** Puts the best weights (θ and the loss's tensors together) back into the model and loss. */
  restoreBest(): void {
    const snap = this.best;
    if (!snap) return;
    noGrad(() => {
      this.model.loadStateDict(section(snap, 'model.'));
      this.loss.parameters().forEach((p, i) => {
        const s = snap.get(`lossparam.${i}`);
        if (s) p.copy_(s);
      });
    });
  }

  checkpointState(): CheckpointPart {
    return { state: { early: this.early.state(), hasBest: this.best !== null }, tensors: this.best ? prefixed('best.', this.best) : [] };
  }

  restoreState(saved: RestoredPart): void {
    const state = saved.state as { early: EarlyStoppingState; hasBest: boolean };
    this.early.load(state.early);
    if (state.hasBest) this.best = new Map([...section(saved.tensors, 'best.')].map(([n, v]) => [n, keep(v.clone())]));
  }

  close(): void {
    this.disposeBest();
  }

  private snapshot(): Map<string, Tensor> {
    return noGrad(() => {
      const m = new Map<string, Tensor>();
      for (const [n, v] of prefixed('model.', this.model.stateDict())) m.set(n, keep(v.clone()));
      this.loss.parameters().forEach((p, i) => m.set(`lossparam.${i}`, keep(p.clone())));
      return m;
    });
  }

  private disposeBest(): void {
    for (const v of this.best?.values() ?? []) v.dispose();
    this.best = null;
  }
}
