// Learning-rate schedules over an optimizer's base learning rates (group.lr; lrMultiplier applies on top).
// Epoch-style like torch.optim.lr_scheduler: the constructor sets the lr for step 0, each step() advances
// one step (an epoch or an iteration, as the caller decides) and sets the new lr.
import { Optimizer } from './optimizer.js';

/** JSON-able scheduler state. */
export type SchedulerState = Record<string, number | number[] | string | null | boolean>;

export abstract class LRScheduler {
  /** Number of step() calls so far. */
  lastEpoch = 0;
  /** Each group's lr when the schedule was created. */
  baseLrs: number[];

  constructor(readonly optimizer: Optimizer) {
    if (!(optimizer instanceof Optimizer)) throw new Error(`${new.target.name}: expected an Optimizer`);
    this.baseLrs = optimizer.lrs;
  }

  /** The lr of each group at step `epoch`. */
  protected abstract lrAt(epoch: number): number[];

  /** Sets the lr for the current step; called by constructors of subclasses once they are set up. */
  protected apply(): void {
    this.optimizer.setLr(this.lrAt(this.lastEpoch));
  }

  /** Advances one step and sets the learning rates. */
  step(): void {
    this.lastEpoch += 1;
    this.apply();
  }

  /** Current learning rates (base, per group). */
  get lastLr(): number[] {
    return this.optimizer.lrs;
  }

  stateDict(): SchedulerState {
    return { type: this.constructor.name, lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(s: SchedulerState): void {
    if (s.type !== this.constructor.name) throw new Error(`${this.constructor.name}.loadStateDict: state is for '${String(s.type)}'`);
    if (typeof s.lastEpoch !== 'number' || !Array.isArray(s.baseLrs) || s.baseLrs.length !== this.baseLrs.length) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: bad lastEpoch / baseLrs (${JSON.stringify([s.lastEpoch, s.baseLrs])}) for ${this.baseLrs.length} groups`,
      );
    }
    this.lastEpoch = s.lastEpoch;
    this.baseLrs = [...s.baseLrs];
    this.apply();
  }
}

/**
 * lr = base * factor for the first totalIters steps, then base (torch.optim.lr_scheduler.ConstantLR). The
 * defaults (factor 1) give a constant learning rate, the spec's `constant` schedule.
 */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;
  constructor(optimizer: Optimizer, options: { factor?: number; totalIters?: number } = {}) {
    super(optimizer);
    this.factor = options.factor ?? 1;
    this.totalIters = options.totalIters ?? 0;
    if (!(this.factor >= 0 && this.factor <= 1)) throw new Error(`ConstantLR: factor must be in [0, 1], got ${this.factor}`);
    this.apply();
  }
  protected lrAt(epoch: number): number[] {
    return this.baseLrs.map((b) => (epoch < this.totalIters ? b * this.factor : b));
  }
}

/** lr = base * gamma^floor(step / stepSize) (torch StepLR). */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    if (!(gamma > 0)) throw new Error(`StepLR: gamma must be > 0, got ${gamma}`);
    this.apply();
  }
  protected lrAt(epoch: number): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(epoch / this.stepSize));
  }
}

export interface CosineOptions {
  etaMin?: number;
  /**
   * Linear warm-up before the cosine: during steps 0..steps-1 the lr rises from base*startFactor
   * (default 1/steps) towards base; the cosine then runs over the next tMax steps.
   */
  warmup?: { steps: number; startFactor?: number };
}

/**
 * Cosine annealing from base to etaMin over tMax steps (the closed form of torch's CosineAnnealingLR),
 * optionally after a linear warm-up; stays at etaMin after tMax (no restart).
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly etaMin: number;
  readonly warmupSteps: number;
  readonly warmupStart: number;
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    options: CosineOptions = {},
  ) {
    super(optimizer);
    if (!Number.isInteger(tMax) || tMax < 1) throw new Error(`CosineAnnealingLR: tMax must be a positive integer, got ${tMax}`);
    this.etaMin = options.etaMin ?? 0;
    this.warmupSteps = options.warmup?.steps ?? 0;
    if (!Number.isInteger(this.warmupSteps) || this.warmupSteps < 0)
      throw new Error(`CosineAnnealingLR: warmup.steps must be an integer >= 0, got ${this.warmupSteps}`);
    this.warmupStart = options.warmup?.startFactor ?? (this.warmupSteps > 0 ? 1 / this.warmupSteps : 1);
    if (!(this.warmupStart >= 0 && this.warmupStart <= 1)) throw new Error(`CosineAnnealingLR: warmup.startFactor must be in [0, 1], got ${this.warmupStart}`);
    this.apply();
  }
  protected lrAt(epoch: number): number[] {
    if (epoch < this.warmupSteps) {
      const f = this.warmupStart + ((1 - this.warmupStart) * epoch) / this.warmupSteps;
      return this.baseLrs.map((b) => b * f);
    }
    const t = Math.min(epoch - this.warmupSteps, this.tMax);
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2);
  }
}

/** lr = base * fn(step). */
export class LambdaLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly fn: (step: number) => number,
  ) {
    super(optimizer);
    this.apply();
  }
  protected lrAt(epoch: number): number[] {
    const f = this.fn(epoch);
    if (!Number.isFinite(f) || f < 0) throw new Error(`LambdaLR: the factor for step ${epoch} is ${f}, expected a finite number >= 0`);
    return this.baseLrs.map((b) => b * f);
  }
}

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  /** Lower bound for every group, or one per group. */
  minLr?: number | number[];
  /** Reductions smaller than this are ignored. */
  eps?: number;
}

/**
 * Multiplies the lr by `factor` when the metric has not improved for more than `patience` steps
 * (torch.optim.lr_scheduler.ReduceLROnPlateau, same counters and thresholds). step(metric) returns true
 * when it reduced the learning rate.
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(
    readonly optimizer: Optimizer,
    options: PlateauOptions = {},
  ) {
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') throw new Error(`ReduceLROnPlateau: mode must be 'min' or 'max', got '${String(this.mode)}'`);
    this.factor = options.factor ?? 0.1;
    if (!(this.factor >= 0 && this.factor < 1)) throw new Error(`ReduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    this.patience = options.patience ?? 10;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new Error(`ReduceLROnPlateau: patience must be an integer >= 0, got ${this.patience}`);
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs')
      throw new Error(`ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs', got '${String(this.thresholdMode)}'`);
    this.cooldown = options.cooldown ?? 0;
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array.from({ length: n }, () => minLr);
    if (this.minLrs.length !== n) throw new Error(`ReduceLROnPlateau: minLr has ${this.minLrs.length} values for ${n} param groups`);
    this.eps = options.eps ?? 1e-8;
    this.best = this.worst;
  }

  private get worst(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** Records one metric value; returns true when the learning rate was reduced. */
  step(metric: number): boolean {
    if (typeof metric !== 'number' || Number.isNaN(metric)) throw new Error(`ReduceLROnPlateau.step: metric must be a number, got ${metric}`);
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      const reduced = this.reduce();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
      return reduced;
    }
    return false;
  }

  private reduce(): boolean {
    const old = this.optimizer.lrs;
    const next = old.map((lr, i) => {
      const n = Math.max(lr * this.factor, this.minLrs[i]!);
      return lr - n > this.eps ? n : lr;
    });
    this.optimizer.setLr(next);
    return next.some((v, i) => v !== old[i]);
  }

  get lastLr(): number[] {
    return this.optimizer.lrs;
  }

  /** JSON-able (infinite `best` is stored as null). */
  stateDict(): SchedulerState {
    return {
      type: 'ReduceLROnPlateau',
      mode: this.mode,
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
    };
  }

  loadStateDict(s: SchedulerState): void {
    if (s.type !== 'ReduceLROnPlateau') throw new Error(`ReduceLROnPlateau.loadStateDict: state is for '${String(s.type)}'`);
    if (s.mode !== this.mode) throw new Error(`ReduceLROnPlateau.loadStateDict: state has mode '${String(s.mode)}', this scheduler '${this.mode}'`);
    for (const k of ['numBadEpochs', 'cooldownCounter', 'lastEpoch'] as const) {
      if (typeof s[k] !== 'number') throw new Error(`ReduceLROnPlateau.loadStateDict: '${k}' must be a number, got ${JSON.stringify(s[k])}`);
    }
    if (s.best !== null && typeof s.best !== 'number')
      throw new Error(`ReduceLROnPlateau.loadStateDict: 'best' must be a number or null, got ${JSON.stringify(s.best)}`);
    this.best = s.best === null ? this.worst : s.best;
    this.numBadEpochs = s.numBadEpochs as number;
    this.cooldownCounter = s.cooldownCounter as number;
    this.lastEpoch = s.lastEpoch as number;
  }
}
