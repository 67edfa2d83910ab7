// CCP hyperparameters (spec §2.8): their one name, one default and one validation rule each, and the
// per-dataset presets (spec §4.5). The run config's `ccp` section is derived from this schema
// (training/config.ts), so the library and the config file share names, defaults and errors.
import { z } from 'zod';

/** Every option's rule and meaning; `CcpOptions` is its type. */
const fields = {
  /** Proxies per class K (default 8, the paper's setting for CUB/Cars; 'large' 4). */
  proxiesPerClass: z.number().int().min(1),
  /** Representative pool size b; the candidate pool has b′ = b if b >= K else b·K per class (12; 'large' 7). */
  poolSize: z.number().int().min(1),
  /** λ of the proximal regulariser (λ/2)‖θ − θ_anchor‖² (2e-4). λ_0 = 0; λ_t = λ·decay^t for t >= 1. */
  lambda: z.number().finite().min(0),
  /** Per-projection decay of λ (1.0). */
  decay: z.number().finite().min(0),
  /** Epochs without improvement of the monitored metric that end one projection problem (3). */
  patience: z.number().int().min(1),
  /** Minimum epochs inside one problem before it may end (1). */
  minIterations: z.number().int().min(1),
  /** Weight of the in-batch term L_base(X, X) (0.1, the reference code's `loss_weight`). */
  batchWeight: z.number().finite().min(0),
  /** Weight of the sample–proxy term L_base(X, P) (1.0, the reference code's `ccp_weight`). */
  proxyWeight: z.number().finite().min(0),
  /** Required gain of the monitored metric over the problem's best (1e-5). */
  minDelta: z.number().finite().min(0),
  /**
   * false (default): each epoch's decision uses that epoch's validation metric.
   * true: reproduce the reference repo, whose callback sees the previous epoch's metric (0 at epoch 1), so the
   * improvement test lags one epoch and the snapshot is taken one epoch after the truly best one (spec §2.5).
   */
  laggedMetric: z.boolean(),
  /**
   * true (default): a problem's end re-places all proxies by K-center (spec §2.5). false (ablation): problems still
   * end and move the regulariser's anchor and λ_t as usual, and the proxies keep training, but they are never
   * re-initialised after the initial placement (no candidate pool, no K-center at projections).
   */
  projections: z.boolean(),
  /**
   * Preprocessing of the K-center candidate pool: 'train' (default, the reference code: the training batches'
   * preprocessing, so random crops and flips when the dataset augments, spec §2.4 and §8.5) or 'test' (the
   * evaluation preprocessing, deterministic). Candidates are embedded in inference mode either way.
   */
  poolPreprocessing: z.enum(['train', 'test']),
};

export const CcpOptionsSchema = z.object(fields).strict();
export type CcpOptions = z.infer<typeof CcpOptionsSchema>;
export type CcpPoolPreprocessing = CcpOptions['poolPreprocessing'];

export const CCP_PRESET_NAMES = ['default', 'small', 'large'] as const;
export type CcpPreset = (typeof CCP_PRESET_NAMES)[number];

/**
 * The defaults. K = 8 is the paper's setting for CUB/Cars (spec §2.8, §4.5); the reference code's unused `ccp`
 * node default was 7. Every other value is the reference code's.
 */
export const CCP_DEFAULTS: Readonly<CcpOptions> = Object.freeze(
  CcpOptionsSchema.parse({
    proxiesPerClass: 8,
    poolSize: 12,
    lambda: 2e-4,
    decay: 1.0,
    patience: 3,
    minIterations: 1,
    batchWeight: 0.1,
    proxyWeight: 1.0,
    minDelta: 1e-5,
    laggedMetric: false,
    projections: true,
    poolPreprocessing: 'train',
  }),
);

/** `dml_small` (CUB-200-2011, Cars196): K 8, b 12; `dml_large` (SOP, In-shop): K 4, b 7. */
export const CCP_PRESETS: Readonly<Record<CcpPreset, Readonly<Partial<CcpOptions>>>> = Object.freeze({
  default: {},
  small: { proxiesPerClass: 8, poolSize: 12 },
  large: { proxiesPerClass: 4, poolSize: 7 },
});

/** What a user passes: any subset of the options, optionally on top of a preset. */
export const CcpOptionsInputSchema = CcpOptionsSchema.partial().extend({ preset: z.enum(CCP_PRESET_NAMES).optional() });
export type CcpOptionsInput = { [K in keyof CcpOptions]?: CcpOptions[K] | undefined } & { preset?: CcpPreset | undefined };

/** Defaults ← preset ← explicit options (undefined ones ignored). Does not validate. */
export function mergeCcpOptions(input: CcpOptionsInput): CcpOptions {
  const { preset = 'default', ...explicit } = input;
  const defined = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined)) as Partial<CcpOptions>;
  return { ...CCP_DEFAULTS, ...CCP_PRESETS[preset], ...defined };
}

/** Defaults ← preset ← explicit options, validated; an error names the option and the value. */
export function resolveCcpOptions(input: CcpOptionsInput = {}): CcpOptions {
  const r = CcpOptionsInputSchema.strict().safeParse(input);
  if (!r.success) throw new Error(`ccp: ${describeIssues(r.error, input as Record<string, unknown>)}`);
  return mergeCcpOptions(r.data);
}

function describeIssues(error: z.ZodError, input: Record<string, unknown>): string {
  return error.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown option(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      const key = String(i.path[0] ?? '');
      if (key === 'preset') return `unknown preset '${String(input.preset)}' (expected ${CCP_PRESET_NAMES.join(', ')})`;
      return `option ${key}: ${i.message}, got ${String(input[key])}`;
    })
    .join('; ');
}

/** λ_t: 0 in the first problem (t = 0), λ·decay^t afterwards (spec §2.2). */
export function lambdaAt(t: number, options: Pick<CcpOptions, 'lambda' | 'decay'>): number {
  if (!Number.isInteger(t) || t < 0) throw new Error(`lambdaAt: t must be an integer >= 0, got ${t}`);
  return t === 0 ? 0 : options.lambda * options.decay ** t;
}
