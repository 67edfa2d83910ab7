// Global early stopping on a maximised validation metric (spec 2.6: patience 60 epochs, min_delta 1e-5,
// restore best weights). The trainer keeps the best weights; this class only decides.

export interface EarlyStoppingState {
  best: number;
  bestEpoch: number;
  wait: number;
}

export class EarlyStopping {
  best = -Infinity;
  bestEpoch = -1;
  wait = 0;

  constructor(
    readonly patience: number,
    readonly minDelta: number,
  ) {}

  /** Records an epoch's metric; returns whether it is a new best. */
  update(epoch: number, value: number): boolean {
    if (value > this.best + this.minDelta) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      return true;
    }
    this.wait++;
    return false;
  }

  get shouldStop(): boolean {
    return this.wait >= this.patience;
  }

  state(): EarlyStoppingState {
    // -Infinity is not JSON: store null.
    return { best: Number.isFinite(this.best) ? this.best : (null as unknown as number), bestEpoch: this.bestEpoch, wait: this.wait };
  }

  load(s: EarlyStoppingState): void {
    this.best = s.best === null ? -Infinity : s.best;
    this.bestEpoch = s.bestEpoch;
    this.wait = s.wait;
  }
}
