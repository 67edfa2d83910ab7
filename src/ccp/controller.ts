// The projection controller (spec §2.5, §2.7): decides at every epoch end whether the current projection problem
// is over and, if so, moves the regulariser anchor to θ_best and re-initialises the proxies by K-center.
//
// Trainer contract (per fold model):
//   await controller.onTrainBegin(ctx)                       // initial KCENTER with λ = 0 (skipped after loadStateDict)
//   every step: backward → controller.applyRegularizer(θ)    // g_θ += λ_t(θ − θ_anchor); proxies excluded
//               → weight decay → clipping → optimiser step
//   every epoch: v = validation MAP@R; await controller.onEpochEnd(v, ctx)
import { type Tensor, tidy, noGrad, keep } from '../engine/index.js';
import type { CcpProxySet } from './proxies.js';
import { ProximalRegularizer } from './regularizer.js';
import { lambdaAt, type CcpOptions } from './options.js';
import { poolSize } from './kcenter.js';
import { proxyCoverDiagnostics, type ProxyCoverDiagnostics } from './covering.js';

/** What the trainer gives the controller. */
export interface CcpContext {
  /**
   * The trainable network weights θ with their names (e.g. `model.namedParameters()` filtered on requiresGrad),
   * in the same order on every call. Never the proxies. Used for θ_best snapshots and as θ_anchor's layout.
   */
  parameters: ReadonlyArray<readonly [string, Tensor]>;
  /**
   * Embeds b′ one-per-class spans of the training split with the network in inference mode and returns the raw
   * head outputs as [C, b′, D] (class c at pool[c]). The controller disposes the returned tensor.
   */
  samplePool(bPrime: number): Promise<Tensor>;
  /** The trainer's epoch number (1-based), recorded in the history; the controller's own count when absent. */
  epoch?: number;
}

/** One projection update, for plots and logs. */
export interface CcpProjectionEvent {
  /** Epoch at whose end the projection ran. */
  epoch: number;
  /** The projection counter after the update (1 for the first projection). */
  t: number;
  /** The monitored metric value at that epoch (the lagged one when laggedMetric). */
  metric: number;
  /** Best monitored value of the problem that just ended (null when it never improved). */
  bestMetric: number | null;
  /** λ_t used from now on. */
  lambda: number;
  /** Whether the proxies were re-placed by K-center (false under `projections: false`; absent in older logs). */
  proxiesReplaced?: boolean;
  /** Mean over classes of the covering radius of the candidate pool by the new proxies (N(v), Euclidean). */
  coveringRadius?: number;
  /** Largest per-class covering radius of the pool by the new proxies. */
  coveringRadiusMax?: number;
  /** Mean pairwise distance between a class's new proxies, averaged over classes. */
  proxySpread?: number;
  /**
   * The same pool covered by the proxies as training left them, before any re-placement (also under
   * `projections: false`): how far trained proxies have drifted from the samples they stand for.
   */
  coveringRadiusBefore?: number;
  /** Mean over classes of the trained proxies' pairwise distance, before any re-placement. */
  proxySpreadBefore?: number;
}

/** What onEpochEnd decided. */
export interface CcpEpochResult {
  epoch: number;
  /** The value the decision used (the previous epoch's when laggedMetric). */
  monitored: number;
  improved: boolean;
  projected: boolean;
  t: number;
  lambda: number;
  /** Epochs without improvement in the current problem (0 after a projection). */
  wait: number;
}

/** JSON-serialisable scalars of the controller state. */
export interface CcpStateScalars {
  version: 1;
  numClasses: number;
  K: number;
  dim: number;
  t: number;
  lambda: number;
  /** null stands for −∞ (no improvement yet in the current problem). */
  best: number | null;
  wait: number;
  epochsInProblem: number;
  epochsSeen: number;
  /** The last metric seen (for laggedMetric); null stands for NaN. */
  previousMetric: number | null;
  initialized: boolean;
  parameterNames: string[];
  hasAnchor: boolean;
  history: CcpProjectionEvent[];
}

/** Controller state for checkpoints: named tensors (live ones, not copies) plus JSON scalars. */
export interface CcpState {
  tensors: Map<string, Tensor>;
  scalars: CcpStateScalars;
}

export const CCP_STATE_PREFIX = 'ccp.';

function shapeKey(t: Tensor): string {
  return t.shape.join(',');
}

export class CcpController {
  readonly options: Readonly<CcpOptions>;
  readonly proxies: CcpProxySet;
  readonly regularizer = new ProximalRegularizer();

  private tValue = 0;
  private bestValue = -Infinity;
  private waitValue = 0;
  private epochsInProblem = 0;
  private epochsSeen = 0;
  private previousMetric = 0; // the lagged callback reads 0 at epoch 1
  private initialized = false;
  private thetaBestTensors: Tensor[] | null = null;
  private parameterNames: string[] = [];
  private readonly events: CcpProjectionEvent[] = [];

  constructor(proxies: CcpProxySet, options: CcpOptions) {
    if (options.proxiesPerClass !== proxies.proxiesPerClass) {
      throw new Error(`CcpController: options.proxiesPerClass=${options.proxiesPerClass} but the proxy set has ${proxies.proxiesPerClass} proxies per class`);
    }
    this.proxies = proxies;
    this.options = Object.freeze({ ...options });
  }

  /** The projection counter t (0 in the first problem). */
  get t(): number {
    return this.tValue;
  }
  /** λ_t currently applied. */
  get lambda(): number {
    return this.regularizer.lambda;
  }
  /** Best monitored value in the current problem (−∞ right after a projection). */
  get best(): number {
    return this.bestValue;
  }
  /** Epochs without improvement in the current problem. */
  get wait(): number {
    return this.waitValue;
  }
  /** Candidate pool size b′ per class. */
  get poolSize(): number {
    return poolSize(this.options.poolSize, this.options.proxiesPerClass);
  }
  /** Projection events so far (t = 1, 2, ...). */
  get history(): readonly CcpProjectionEvent[] {
    return this.events;
  }
  /** θ_best snapshots (kept copies), or null before the first snapshot / when λ = 0 makes them unnecessary. */
  get thetaBest(): readonly Tensor[] | null {
    return this.thetaBestTensors;
  }
  /** θ_anchor, or null before the first projection. */
  get thetaAnchor(): readonly Tensor[] | null {
    return this.regularizer.anchors;
  }

  /** g_θ += λ_t(θ − θ_anchor) on the network weights (call after backward; never pass the proxies). */
  applyRegularizer(params: readonly Tensor[]): void {
    this.regularizer.applyToGradients(params);
  }

  /**
   * Start of training: λ = 0, t = 0, θ_best ← θ, and P ← KCENTER(pool(b′), P_best = 0, K). After loadStateDict
   * (resume) nothing is re-initialised.
   */
  async onTrainBegin(ctx: CcpContext): Promise<void> {
    if (this.initialized) return;
    const params = this.checkParameters(ctx, 'onTrainBegin');
    this.snapshotTheta(params);
    const pool = await ctx.samplePool(this.poolSize);
    try {
      this.proxies.reinitialize(pool, this.options.poolSize);
    } finally {
      pool.dispose();
    }
    this.regularizer.lambda = 0;
    this.initialized = true;
  }

  /**
   * End of an epoch with its validation metric (maximised, e.g. MAP@R). Snapshots θ_best and P_best on
   * improvement; when `patience` epochs pass without one (and at least `minIterations` epochs were spent in the
   * problem) runs a projection: t += 1, θ_anchor ← θ_best, λ ← λ·decay^t, P ← KCENTER(pool(b′), P_best, K) in
   * place (skipped under `projections: false`), best ← −∞, wait ← 0. The live θ and the optimiser state are not
   * touched.
   */
  async onEpochEnd(metricValue: number, ctx: CcpContext): Promise<CcpEpochResult> {
    if (typeof metricValue !== 'number') throw new Error(`CcpController.onEpochEnd: metricValue must be a number, got ${String(metricValue)}`);
    const params = this.checkParameters(ctx, 'onEpochEnd');
    this.epochsSeen++;
    this.epochsInProblem++;
    const epoch = ctx.epoch ?? this.epochsSeen;
    const o = this.options;
    const monitored = o.laggedMetric ? this.previousMetric : metricValue;
    this.previousMetric = metricValue;

    const improved = monitored > this.bestValue + o.minDelta; // NaN never improves
    if (improved) {
      this.bestValue = monitored;
      this.waitValue = 0;
      this.snapshotTheta(params);
      this.proxies.snapshotBest();
    } else {
      this.waitValue++;
    }

    let projected = false;
    if (this.waitValue >= o.patience && this.epochsInProblem >= o.minIterations) {
      await this.project(epoch, monitored, params, ctx);
      projected = true;
    }
    return { epoch, monitored, improved, projected, t: this.tValue, lambda: this.regularizer.lambda, wait: this.waitValue };
  }

  /** Checkpoint state: live tensors by name + JSON scalars. Serialise promptly; the tensors keep changing. */
  stateDict(): CcpState {
    const tensors = new Map<string, Tensor>();
    tensors.set(`${CCP_STATE_PREFIX}proxies`, this.proxies.proxies);
    tensors.set(`${CCP_STATE_PREFIX}proxies_best`, this.proxies.best);
    this.thetaBestTensors?.forEach((t, i) => tensors.set(`${CCP_STATE_PREFIX}theta_best.${this.parameterNames[i]}`, t));
    this.regularizer.anchors?.forEach((t, i) => tensors.set(`${CCP_STATE_PREFIX}theta_anchor.${this.parameterNames[i]}`, t));
    const scalars: CcpStateScalars = {
      version: 1,
      numClasses: this.proxies.numClasses,
      K: this.proxies.proxiesPerClass,
      dim: this.proxies.dim,
      t: this.tValue,
      lambda: this.regularizer.lambda,
      best: Number.isFinite(this.bestValue) ? this.bestValue : null,
      wait: this.waitValue,
      epochsInProblem: this.epochsInProblem,
      epochsSeen: this.epochsSeen,
      previousMetric: Number.isNaN(this.previousMetric) ? null : this.previousMetric,
      initialized: this.initialized,
      parameterNames: this.thetaBestTensors || this.regularizer.anchors ? [...this.parameterNames] : [],
      hasAnchor: this.regularizer.anchors !== null,
      history: this.events.map((e) => ({ ...e })),
    };
    return { tensors, scalars };
  }

  /**
   * Restores a state from stateDict (tensors are copied in; `parameters` are the live network weights, matched by
   * name). After this, onTrainBegin does not re-initialise the proxies.
   */
  loadStateDict(state: CcpState, parameters: ReadonlyArray<readonly [string, Tensor]>): void {
    const s = state.scalars;
    if (s.version !== 1) throw new Error(`CcpController.loadStateDict: unsupported state version ${String(s.version)}`);
    const p = this.proxies;
    if (s.numClasses !== p.numClasses || s.K !== p.proxiesPerClass || s.dim !== p.dim) {
      throw new Error(
        `CcpController.loadStateDict: state is for C=${s.numClasses}, K=${s.K}, D=${s.dim}; this controller has C=${p.numClasses}, K=${p.proxiesPerClass}, D=${p.dim}`,
      );
    }
    const get = (name: string): Tensor => {
      const t = state.tensors.get(`${CCP_STATE_PREFIX}${name}`);
      if (!t) throw new Error(`CcpController.loadStateDict: missing tensor '${CCP_STATE_PREFIX}${name}'`);
      return t;
    };
    const byName = new Map(parameters.map(([n, t]) => [n, t] as const));
    const names = s.parameterNames;
    for (const n of names) {
      const live = byName.get(n);
      if (!live) throw new Error(`CcpController.loadStateDict: the state has θ snapshots for parameter '${n}', which the model lacks`);
    }
    if (names.length && names.length !== parameters.length) {
      throw new Error(`CcpController.loadStateDict: the state covers ${names.length} parameters, the model has ${parameters.length} trainable ones`);
    }
    const load = (kind: 'theta_best' | 'theta_anchor'): Tensor[] =>
      names.map((n) => {
        const src = get(`${kind}.${n}`);
        const live = byName.get(n)!;
        if (shapeKey(src) !== shapeKey(live))
          throw new Error(`CcpController.loadStateDict: ${kind}.${n} has shape [${src.shape}], the parameter [${live.shape}]`);
        return src;
      });
    const thetaBest = names.length ? load('theta_best') : null;
    const anchors = s.hasAnchor ? load('theta_anchor') : null;

    noGrad(() =>
      tidy(() => {
        const proxies = get('proxies');
        if (shapeKey(proxies) !== shapeKey(p.proxies))
          throw new Error(`CcpController.loadStateDict: proxies have shape [${proxies.shape}], expected [${p.proxies.shape}]`);
        p.proxies.copy_(proxies.to(p.proxies.dtype));
        p.setBest(get('proxies_best'));
      }),
    );
    this.parameterNames = parameters.map(([n]) => n);
    // Order snapshots like `parameters`, which is the order applyRegularizer will receive.
    const order = (ts: Tensor[]) => this.parameterNames.map((n) => ts[names.indexOf(n)]!);
    this.disposeThetaBest();
    if (thetaBest) this.thetaBestTensors = noGrad(() => order(thetaBest).map((t) => keep(t.detach().clone())));
    this.regularizer.reset();
    if (anchors) this.regularizer.setAnchor(order(anchors));
    this.regularizer.lambda = s.lambda;
    this.tValue = s.t;
    this.bestValue = s.best === null ? -Infinity : s.best;
    this.waitValue = s.wait;
    this.epochsInProblem = s.epochsInProblem;
    this.epochsSeen = s.epochsSeen;
    this.previousMetric = s.previousMetric ?? NaN;
    this.initialized = s.initialized;
    this.events.length = 0;
    this.events.push(...s.history.map((e) => ({ ...e, metric: e.metric ?? NaN }))); // JSON turns NaN into null
  }

  /** Frees θ_best, θ_anchor and the proxy tensors. */
  dispose(): void {
    this.disposeThetaBest();
    this.regularizer.dispose();
    this.proxies.dispose();
  }

  // ---- internals ----

  private async project(epoch: number, monitored: number, params: Tensor[], ctx: CcpContext): Promise<void> {
    // Sample first: nothing changes if the trainer's sampler fails. The pool is drawn under `projections: false`
    // too, for the diagnostic of the trained proxies (it has its own sampler and is embedded in inference mode,
    // so training sees the same batches and weights either way).
    const pool = await ctx.samplePool(this.poolSize);
    try {
      const t = this.tValue + 1;
      let cover: Partial<ProxyCoverDiagnostics> = {};
      const replace = this.options.projections;
      this.proxies.checkPool(pool); // before anything changes
      const before = tidy(() => proxyCoverDiagnostics(pool, this.proxies.classMajor()));
      if (replace) {
        this.proxies.reinitialize(pool, this.options.poolSize);
        cover = tidy(() => proxyCoverDiagnostics(pool, this.proxies.classMajor()));
      }
      if (this.options.lambda > 0) {
        if (!this.thetaBestTensors) this.snapshotTheta(params);
        this.regularizer.setAnchor(this.thetaBestTensors!);
      }
      this.tValue = t;
      this.regularizer.lambda = lambdaAt(t, this.options);
      this.events.push({
        epoch,
        t,
        metric: monitored,
        bestMetric: Number.isFinite(this.bestValue) ? this.bestValue : null,
        lambda: this.regularizer.lambda,
        proxiesReplaced: replace,
        ...cover,
        coveringRadiusBefore: before.coveringRadius,
        proxySpreadBefore: before.proxySpread,
      });
      this.bestValue = -Infinity;
      this.waitValue = 0;
      this.epochsInProblem = 0;
    } finally {
      pool.dispose();
    }
  }

  /** θ_best ← θ (allocates once; skipped entirely when λ = 0, since no anchor is ever needed). */
  private snapshotTheta(params: Tensor[]): void {
    if (this.options.lambda === 0) return;
    const cur = this.thetaBestTensors;
    if (cur && (cur.length !== params.length || cur.some((t, i) => shapeKey(t) !== shapeKey(params[i]!)))) this.disposeThetaBest();
    noGrad(() => {
      if (!this.thetaBestTensors) this.thetaBestTensors = params.map((p) => keep(p.detach().clone()));
      else this.thetaBestTensors.forEach((t, i) => t.copy_(params[i]!));
    });
  }

  private disposeThetaBest(): void {
    if (this.thetaBestTensors) for (const t of this.thetaBestTensors) t.dispose();
    this.thetaBestTensors = null;
  }

  private checkParameters(ctx: CcpContext, where: string): Tensor[] {
    if (!ctx || !Array.isArray(ctx.parameters)) throw new Error(`CcpController.${where}: context.parameters must be an array of [name, tensor]`);
    if (typeof ctx.samplePool !== 'function') throw new Error(`CcpController.${where}: context.samplePool must be a function`);
    const names = ctx.parameters.map(([n]) => n);
    const params = ctx.parameters.map(([, t]) => t);
    if (params.some((t) => t === this.proxies.proxies))
      throw new Error(`CcpController.${where}: context.parameters must not include the proxies (θ is the network weights only)`);
    if (this.parameterNames.length && (this.parameterNames.length !== names.length || this.parameterNames.some((n, i) => n !== names[i]))) {
      if (this.thetaBestTensors || this.regularizer.anchors) {
        throw new Error(`CcpController.${where}: context.parameters changed (names/order differ from the first call)`);
      }
    }
    this.parameterNames = names;
    return params;
  }
}
