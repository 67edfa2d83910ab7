// The training configuration: one zod schema, so config files and CLI flags are validated in one place and
// every error names the key at fault. Unknown keys are rejected (strict objects).
import { z } from 'zod';
import { LOSS_NAMES, PAIR_LOSS_NAMES, type LossName } from '../losses/registry.js';
import { MINER_NAMES } from '../miners/registry.js';
import { MODEL_NAMES } from '../models/registry.js';
import { OPT_IN_METRICS } from '../evaluation/metric-table.js';
import { EMBEDDING_NORMALIZATIONS } from '../engine/normalization.js';
import { PRECISION_REQUESTS } from '../engine/precision-request.js';
import { DEVICE_SETTING_EXPECTED, isDeviceSetting, type DeviceSetting } from './device-setting.js';
import { IMAGE_NORMALIZATIONS } from '../data/transforms.js';
import { POOLINGS } from '../models/head.js';
import { getPreset, lossPresets, PRESET_NAMES } from '../losses/presets.js';
import { DATASET_NAMES } from '../data/registry.js';
import { CcpOptionsInputSchema, mergeCcpOptions } from '../ccp/options.js';

/** Base loss names (the losses registry's) and those CCP and XBM can wrap (pair-based ones). */
export const baseLossNames = LOSS_NAMES;
export const pairLossNames: readonly LossName[] = PAIR_LOSS_NAMES;

export const DatasetConfig = z
  .object({
    /** A name of the data layer's dataset registry (`data/registry.ts`). */
    name: z.enum(DATASET_NAMES),
    /** Dataset folder (the datasets whose registry entry needs a root) or the Omniglot zips' folder. */
    root: z.string().optional(),
    /** CSV manifest (path,label,split) for name=csv. */
    csv: z.string().optional(),
    imageSize: z.number().int().min(8).max(512).default(28),
    /** Shorter side before the centre crop at test time (spec 4.2: 256 for 227 crops). */
    resizeTo: z.number().int().min(8).max(1024).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).default(1),
    normalization: z.enum(IMAGE_NORMALIZATIONS).default('unit'),
    augment: z.boolean().default(false),
    /** 'classes': validate on held-out training classes (MLRC folds); 'samples': on held-out images of the training classes. */
    validation: z.enum(['classes', 'samples']).default('classes'),
    /** MLRC fold 0..3 (model k = fold+1 validates on class range 3-fold). */
    fold: z.number().int().min(0).max(3).default(0),
    /** Share of each training class held out when validation = 'samples'. */
    validationShare: z.number().gt(0).lt(1).default(0.1),
    /** Caps for quick runs. */
    maxClasses: z.number().int().positive().optional(),
    maxPerClass: z.number().int().positive().optional(),
    onBadItem: z.enum(['fail', 'skip']).default('fail'),
    cacheInMemory: z.boolean().default(true),
  })
  .strict();

export const ModelConfig = z
  .object({
    name: z.enum(MODEL_NAMES).default('small_cnn'),
    embeddingDim: z.number().int().positive().default(128),
    pretrained: z.string().optional(),
    freezeBatchNorm: z.boolean().default(false),
    /** Data-parallel runs: BatchNorm statistics over the global batch (all ranks), as torch's SyncBatchNorm. */
    syncBatchNorm: z.boolean().default(false),
    pooling: z.enum(POOLINGS).default('avg'),
    /** Extra model-specific options (hidden sizes, widths). */
    options: z.record(z.string(), z.unknown()).default({}),
    /**
     * Compute precision of the backbone: 'bf16' runs its forward under bf16 autocast (embeddings, losses,
     * proxies, optimizer state and metrics stay float32); 'auto' = bf16 where the CPU computes bf16 natively
     * (AVX-512 BF16 or AMX), float32 elsewhere; 'fp16' = float16 autocast, CUDA devices only.
     */
    precision: z.enum(PRECISION_REQUESTS).default('fp32'),
    /** Conv weights and inputs in channels_last (NHWC) memory: 'auto' = yes for conv models. */
    memoryFormat: z.enum(['auto', 'channels_last', 'contiguous']).default('auto'),
    /**
     * A BatchNorm that normalises with running statistics (freezeBatchNorm, and every BN at evaluation) runs
     * folded into the convolution before it: same function, one pass over the activation fewer each way.
     */
    foldBatchNorm: z.boolean().default(true),
  })
  .strict();

export const LossConfig = z
  .object({
    /** Base loss name, optionally prefixed 'ccp/' or 'xbm/' as in the paper's CLI. */
    name: z.string().default('ccp/contrastive'),
    /**
     * Paper hyperparameters of a dataset ('cub', 'cars', 'sop', 'inshop'), the reference code's ('code'), its conventional_*
     * yaml ('conventional') or PML's setting ('pml'): the losses' preset names; each loss has those its table lists.
     */
    preset: z.enum(PRESET_NAMES).optional(),
    /** Overrides of the loss's own options (margins, alpha, beta, ...). */
    options: z.record(z.string(), z.unknown()).default({}),
    /** A miner in front of a pair loss: its name, or { type, ...options } (e.g. { type: 'semihard', margin: 0.2 }). */
    miner: z.union([z.enum(MINER_NAMES), z.object({ type: z.enum(MINER_NAMES) }).catchall(z.unknown())]).optional(),
  })
  .strict();

/**
 * The `ccp` section is the library's CCP options (`ccp/options.ts`: names, defaults, rules) less `minDelta`, which
 * is the run's `training.minDelta`. `preset: small|large` applies the paper's per-dataset K and b first; explicit
 * keys override it. The parsed section holds every resolved value (and the preset's name).
 */
export const CcpConfig = CcpOptionsInputSchema.omit({ minDelta: true })
  .strict()
  .transform(({ preset, ...explicit }) => {
    const { minDelta: _runOwned, ...resolved } = mergeCcpOptions({ preset, ...explicit });
    return { ...(preset !== undefined ? { preset } : {}), ...resolved };
  });

export const XbmConfig = z
  .object({
    memoryBatches: z.number().int().positive().default(25),
    startStep: z.number().int().nonnegative().optional(),
    weight: z.number().nonnegative().default(1.0),
  })
  .strict();

export const OptimizerConfig = z
  .object({
    name: z.enum(['adam', 'adamw', 'sgd']).default('adam'),
    lr: z.number().positive().default(1e-4),
    weightDecay: z.number().nonnegative().default(1e-4),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-7),
    momentum: z.number().min(0).lt(1).default(0.9),
    /** LR multiplier for loss parameters (proxies); defaults to the loss's own suggestion. */
    proxyLrMultiplier: z.number().positive().optional(),
    clipNorm: z.number().positive().nullable().default(10),
    clipValue: z.number().positive().nullable().default(10),
    /**
     * Dynamic loss scaling (PyTorch's GradScaler; training/loss-scaling.ts): 'auto' = on exactly when
     * model.precision is 'fp16', 'on' for any precision, 'off'. The other keys are GradScaler's.
     */
    lossScaling: z
      .object({
        enabled: z.enum(['auto', 'on', 'off']).default('auto'),
        initScale: z
          .number()
          .positive()
          .default(2 ** 16),
        growthFactor: z.number().gt(1).default(2),
        backoffFactor: z.number().positive().lt(1).default(0.5),
        growthInterval: z.number().int().positive().default(2000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const ScheduleConfig = z
  .object({
    name: z.enum(['constant', 'step', 'cosine', 'plateau']).default('constant'),
    stepSize: z.number().int().positive().default(10),
    gamma: z.number().positive().default(0.5),
    minLr: z.number().nonnegative().default(1e-6),
    patience: z.number().int().positive().default(3),
  })
  .strict();

export const TrainingConfig = z
  .object({
    classesPerBatch: z.number().int().min(2).default(8),
    samplesPerClass: z.number().int().min(1).default(4),
    stepsPerEpoch: z.number().int().positive().default(25),
    maxEpochs: z.number().int().positive().default(10000),
    /** Global early stopping on validation MAP@R (epochs); spec: 60. */
    earlyStopPatience: z.number().int().positive().default(60),
    minDelta: z.number().nonnegative().default(1e-5),
    /** Stop after this many seconds (checked at epoch end); for budgeted runs. */
    timeBudgetSeconds: z.number().positive().optional(),
    evalBatchSize: z.number().int().positive().default(256),
    /** Cap on validation queries per epoch (random, seeded) to keep epochs cheap; null = all. */
    maxValidationSamples: z.number().int().positive().nullable().default(null),
    /** Batches decoded ahead of training (bounded: each holds a whole batch of decoded images). */
    prefetchBatches: z.number().int().min(0).max(64).default(4),
    /** Also log the mean training loss of every N steps to metrics.jsonl (finer curves in the report); null = per epoch only. */
    logEverySteps: z.number().int().positive().nullable().default(null),
  })
  .strict();

export const EvaluationConfig = z
  .object({
    recallAt: z.array(z.number().int().positive()).default([1, 2, 4, 8]),
    nmi: z.boolean().default(false),
    normalization: z.enum(EMBEDDING_NORMALIZATIONS).default('lipschitz'),
    /** Metrics beyond the default ones (P@1, Recall@K, R-Precision, MAP@R): the metrics table's opt-in rows (MAP@K, MRR, NMI, AMI). */
    extraMetrics: z.array(z.enum(OPT_IN_METRICS)).default([]),
    /** K of MAP@K and MRR. */
    atK: z.number().int().positive().default(10),
    /** Average the kNN metrics per class first, then over classes (PML's avg_of_avgs). */
    avgOfAvgs: z.boolean().default(false),
  })
  .strict();

export const RunConfig = z
  .object({
    name: z.string().default('run'),
    seed: z.number().int().nonnegative().default(0),
    threads: z.number().int().positive().optional(),
    /** 'cpu', 'cuda', 'cuda:N' or 'auto' (see src/training/device.ts: CUDA is refused with the reason). */
    device: z
      .custom<DeviceSetting>((v) => typeof v === 'string' && isDeviceSetting(v), {
        error: (iss) => `${DEVICE_SETTING_EXPECTED}, got ${JSON.stringify(iss.input)}`,
      })
      .default('auto'),
    outputDir: z.string().default('runs'),
    dataset: DatasetConfig,
    model: ModelConfig.prefault({}),
    loss: LossConfig.prefault({}),
    ccp: CcpConfig.prefault({}),
    xbm: XbmConfig.prefault({}),
    optimizer: OptimizerConfig.prefault({}),
    schedule: ScheduleConfig.prefault({}),
    training: TrainingConfig.prefault({}),
    evaluation: EvaluationConfig.prefault({}),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfig>;
export type RunConfigInput = z.input<typeof RunConfig>;

/** Validates a config object; the error lists every bad key as a dotted path with the reason. */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const r = RunConfig.safeParse(input);
  if (r.success) {
    // Names the schema cannot list (the loss registry's) are checked here, so --print-config catches them too.
    try {
      const { base } = parseLossName(r.data.loss.name);
      const table = (lossPresets as Record<string, Record<string, unknown> | undefined>)[base];
      if (r.data.loss.preset && table) getPreset(table, `loss.preset of '${base}'`, r.data.loss.preset);
    } catch (e) {
      throw new Error(`invalid ${source}:\n  ${(e as Error).message}`);
    }
    return r.data;
  }
  const lines = r.error.issues.map((i) => {
    const path = i.path.join('.') || '(root)';
    if (i.code === 'unrecognized_keys') return `  ${path ? path + ': ' : ''}unknown key(s) ${(i as { keys: string[] }).keys.map((k) => `'${k}'`).join(', ')}`;
    return `  ${path}: ${i.message}`;
  });
  throw new Error(`invalid ${source}:\n${lines.join('\n')}`);
}

/** Splits 'ccp/contrastive' into wrapper and base loss, checking both names. */
export function parseLossName(name: string): { wrapper: 'none' | 'ccp' | 'xbm'; base: LossName } {
  const parts = name.split('/');
  const [wrapper, base] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['none', parts[0]!];
  if (!['none', 'ccp', 'xbm'].includes(wrapper)) throw new Error(`loss.name: unknown wrapper '${wrapper}' in '${name}' (expected ccp/ or xbm/)`);
  if (!(baseLossNames as readonly string[]).includes(base)) throw new Error(`loss.name: unknown loss '${base}' (expected one of ${baseLossNames.join(', ')})`);
  if (wrapper !== 'none' && !pairLossNames.includes(base as LossName)) {
    throw new Error(`loss.name: ${wrapper}/ wraps a pair loss (${pairLossNames.join(', ')}), not '${base}'`);
  }
  return { wrapper: wrapper as 'none' | 'ccp' | 'xbm', base: base as LossName };
}
