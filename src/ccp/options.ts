// CCP hyperparameters (spec §2.8) with the code defaults, and the per-dataset presets (spec §4.5).

export interface CcpOptions {
  /** Proxies per class K (code default 7; 'small' 8, 'large' 4). */
  K: number;
  /** Representative pool size b; the candidate pool has b′ = b if b >= K else b·K per class (code default 12). */
  b: number;
  /** λ of the proximal regulariser (λ/2)‖θ − θ_anchor‖² (2e-4). λ_0 = 0; λ_t = λ·decay^t for t >= 1. */
  lambda: number;
  /** Per-projection decay of λ (1.0). */
  decay: number;
  /** Epochs without improvement of the monitored metric that end one projection problem (3). */
  patience: number;
  /** Minimum epochs inside one problem before it may end (1). */
  minIterations: number;
  /** Weight of the in-batch term L_base(X, X) (0.1, the code's `loss_weight`). */
  wBatch: number;
  /** Weight of the sample–proxy term L_base(X, P) (1.0, the code's `ccp_weight`). */
  wProxy: number;
  /** Required gain of the monitored metric over the problem's best (1e-5). */
  minDelta: number;
  /**
   * false (default): each epoch's decision uses that epoch's validation metric.
   * true: reproduce the reference repo, whose callback sees the previous epoch's metric (0 at epoch 1), so the
   * improvement test lags one epoch and the snapshot is taken one epoch after the truly best one (spec §2.5).
   */
  laggedMetric: boolean;
}

export type CcpPreset = 'default' | 'small' | 'large';

/** The reference code's `ccp` node defaults. */
export const CCP_DEFAULTS: Readonly<CcpOptions> = Object.freeze({
  K: 7,
  b: 12,
  lambda: 2e-4,
  decay: 1.0,
  patience: 3,
  minIterations: 1,
  wBatch: 0.1,
  wProxy: 1.0,
  minDelta: 1e-5,
  laggedMetric: false,
});

/** `dml_small` (CUB-200-2011, Cars196): K 8, b 12; `dml_large` (SOP, In-shop): K 4, b 7. */
export const CCP_PRESETS: Readonly<Record<CcpPreset, Readonly<Partial<CcpOptions>>>> = Object.freeze({
  default: {},
  small: { K: 8, b: 12 },
  large: { K: 4, b: 7 },
});

export type CcpOptionsInput = Partial<CcpOptions> & { preset?: CcpPreset };

/** Defaults ← preset ← explicit options, validated. */
export function resolveCcpOptions(input: CcpOptionsInput = {}): CcpOptions {
  const { preset = 'default', ...explicit } = input;
  const presetValues = CCP_PRESETS[preset];
  if (!presetValues) throw new Error(`ccp: unknown preset '${String(preset)}' (expected ${Object.keys(CCP_PRESETS).join(', ')})`);
  const defined = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined)) as Partial<CcpOptions>;
  const o: CcpOptions = { ...CCP_DEFAULTS, ...presetValues, ...defined };
  const int = (name: keyof CcpOptions, min: number) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`ccp: option ${name} must be an integer >= ${min}, got ${String(v)}`);
  };
  const num = (name: keyof CcpOptions, min: number) => {
    const v = o[name] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`ccp: option ${name} must be a finite number >= ${min}, got ${String(v)}`);
  };
  int('K', 1);
  int('b', 1);
  int('patience', 1);
  int('minIterations', 1);
  num('lambda', 0);
  num('decay', 0);
  num('wBatch', 0);
  num('wProxy', 0);
  num('minDelta', 0);
  if (typeof o.laggedMetric !== 'boolean') throw new Error(`ccp: option laggedMetric must be a boolean, got ${String(o.laggedMetric)}`);
  return o;
}

/** λ_t: 0 in the first problem (t = 0), λ·decay^t afterwards (spec §2.2). */
export function lambdaAt(t: number, options: Pick<CcpOptions, 'lambda' | 'decay'>): number {
  if (!Number.isInteger(t) || t < 0) throw new Error(`lambdaAt: t must be an integer >= 0, got ${t}`);
  return t === 0 ? 0 : options.lambda * Math.pow(options.decay, t);
}
