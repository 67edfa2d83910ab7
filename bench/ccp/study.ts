// The accuracy study's core: for every method, a learning-rate search on the validation classes (one seed,
// shorter budget), then the seeds at the chosen LR with the test evaluation; per-run results are kept on disk so
// an interrupted study continues where it stopped. Everything but the loss (and its LR) is shared by all
// methods: data, model, embedding size, batch layout, optimiser and step budget.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../src/training/config.js';
import type { CcpOptions } from '../../src/ccp/options.js';
import type { CcpProjectionEvent } from '../../src/ccp/controller.js';
import { train } from '../../src/training/trainer.js';
import { writeRunReport } from '../../src/report/index.js';
import type { RunData } from '../../src/training/data-setup.js';
import { loadOmniglotStudyData, studyRunData, type OmniglotStudyData } from './omniglot-data.js';
import type { StudyMethod } from './methods.js';
import { pretrainMnistBackbone, DEFAULT_PRETRAIN_EPOCHS } from './pretrain-mnist.js';
import { baseLossName, type StudyLossOptions } from './loss-options.js';

export interface Budget {
  kind: 'steps' | 'seconds';
  value: number;
}

export interface StudySettings {
  /** 'full', 'quick' or 'custom': recorded in the outputs. */
  mode: string;
  methods: StudyMethod[];
  seeds: number[];
  /** Per-run training budget (training steps, or seconds of training checked at epoch ends). */
  budget: Budget;
  /** Budget of one LR-search run, as a fraction of `budget`. */
  tuneFraction: number;
  lrGrid: number[];
  /** Seed of the LR-search runs (kept apart from the reported seeds). */
  tuneSeed: number;
  stepsPerEpoch: number;
  imageSize: number;
  channels: number[];
  embeddingDim: number;
  /** Keep only the first n background and evaluation classes (quick checks); undefined = all. */
  maxClasses?: number;
  /** Validation images per epoch (random, fixed per seed); null = all. */
  maxValidationSamples: number | null;
  /** Loss hyperparameters: the reference code's defaults ('code') or a paper dataset preset. */
  lossPreset: 'code' | 'cub' | 'cars' | 'sop' | 'inshop';
  /** CCP options of the CCP methods: K, b, patience and λ always; any other CCP option (batchWeight, laggedMetric, ...) when set (ablations). */
  ccp: { proxiesPerClass: number; poolSize: number; patience: number; lambda: number } & Partial<Omit<CcpOptions, 'minDelta'>>;
  xbm: { memoryBatches: number; startFraction: number };
  /** LR multiplier of the proxy baselines' proxies (ProxyAnchor, ProxyNCA++, SoftTriple); undefined = the loss's own (x100, the code's). */
  proxyLrMultiplier?: number;
  /** LR multiplier of the CCP methods' proxies (an ablation); undefined = the CCP loss's own (x1, the code's). */
  ccpProxyLrMultiplier?: number;
  /** Training augmentation (spec 4.2: random crop of area 0.16-1, aspect 3/4-4/3, horizontal flip); evaluation and validation keep the test preprocessing. Default off. */
  augment?: boolean;
  /**
   * Backbone initialisation: 'none' (trained from scratch) or 'mnist' (the small CNN's backbone pretrained on MNIST
   * classification by pretrain-mnist.ts, head fresh: the analogue of the paper's ImageNet-pretrained backbone).
   */
  pretrained?: 'none' | 'mnist' | { file: string };
  /** MNIST pretraining length in epochs (default DEFAULT_PRETRAIN_EPOCHS). */
  pretrainEpochs?: number;
  /** Set by runStudy when `pretrained` is 'mnist': the backbone file every run loads. */
  pretrainedFile?: string;
  threads?: number;
  /** Backbone precision (the config's model.precision); undefined = the config's default (fp32). */
  precision?: 'fp32' | 'bf16' | 'auto';
  /** Global early stopping: epochs without a validation gain that end a run (the paper: 60); undefined = off (fixed budget). */
  earlyStopPatience?: number;
  /** Freeze the backbone's BatchNorm layers (running statistics and affine), as the paper's BN-Inception. */
  freezeBatchNorm?: boolean;
  /** Overrides of a base loss's own options (loss.options) for every method on that base loss (--loss-option). */
  lossOptions?: StudyLossOptions;
  /** Per-method LR given up front (method id -> LR): that method skips the LR search (e.g. a precision comparison at the main study's LRs). */
  fixedLrs?: Record<string, number>;
}

export interface EpochPoint {
  epoch: number;
  step: number;
  valMapAtR: number;
  seconds: number;
  projected: boolean;
}

export type ProjectionCover = Partial<Pick<CcpProjectionEvent, 'coveringRadiusBefore' | 'coveringRadius' | 'proxySpreadBefore' | 'proxySpread'>>;

export interface RunRecord {
  method: string;
  label: string;
  loss: string;
  purpose: 'tune' | 'test';
  seed: number;
  lr: number;
  steps: number;
  epochs: number;
  bestEpoch: number;
  stopReason: string;
  /** Best per-epoch (subsampled) validation MAP@R. */
  bestValMapAtR: number;
  /** Tuning runs: metrics of the best weights on the whole validation fold. Test runs: on the test classes. */
  final: { precisionAt1: number; rPrecision: number; mapAtR: number; numQueries: number };
  /**
   * CCP projection epochs and steps, with the pool's covering radius and the proxies' spread by the proxies as
   * training left them (…Before) and after K-center (absent in records made before these were measured).
   */
  projections: ({ epoch: number; step: number; t: number } & ProjectionCover)[];
  curve: EpochPoint[];
  /** Training time as the trainer counts it, and the whole run including setup and the final evaluation. */
  trainSeconds: number;
  wallSeconds: number;
  runDir: string;
  /** The run's HTML report (test runs; LR-search runs have none). */
  report?: string;
  /** True when this record was loaded from an earlier invocation's run folder instead of trained now. */
  reused?: boolean;
  /** Set when the run continued from the checkpoint of an earlier, killed invocation (its last finished epoch); wallSeconds is then this invocation's. */
  resumedFromEpoch?: number;
}

export interface StudyProgress {
  done: number;
  total: number;
  elapsedSeconds: number;
}

export interface StudyResult {
  settings: StudySettings;
  data: {
    trainClasses: number;
    trainImages: number;
    validationClasses: number;
    validationImages: number;
    testClasses: number;
    testImages: number;
    decodeSeconds: number;
  };
  tuning: Record<string, { grid: { lr: number; valMapAtR: number; bestEpochValMapAtR: number }[]; chosenLr: number }>;
  runs: RunRecord[];
  /** This invocation (reused runs cost nothing here). */
  wallSeconds: number;
  /** Sum of every run's own wall time, reused ones included. */
  runSeconds: number;
  startedAt: string;
  finishedAt: string;
  host: { cpus: number; loadAverage: number[] };
}

function budgetEpochs(b: Budget, stepsPerEpoch: number): number {
  return b.kind === 'steps' ? Math.max(1, Math.ceil(b.value / stepsPerEpoch)) : 100_000;
}

function scaled(b: Budget, f: number): Budget {
  return { kind: b.kind, value: b.kind === 'steps' ? Math.max(1, Math.round(b.value * f)) : b.value * f };
}

/** The run config of one method / seed / LR under a budget. */
export function runConfig(s: StudySettings, m: StudyMethod, seed: number, lr: number, budget: Budget, name: string): RunConfig {
  const epochs = budgetEpochs(budget, s.stepsPerEpoch);
  const plannedSteps = budget.kind === 'steps' ? epochs * s.stepsPerEpoch : 0;
  // XBM: the memory term starts after a warm-up (the code: 1000 + M steps of a 10k+ step run), here a fixed
  // share of the planned steps, at least M so the memory is full.
  const xbmStart = Math.max(s.xbm.memoryBatches, Math.round(s.xbm.startFraction * (plannedSteps || s.xbm.memoryBatches * 4)));
  const cfg: RunConfigInput = {
    name,
    seed,
    ...(s.threads ? { threads: s.threads } : {}),
    dataset: {
      name: 'omniglot',
      imageSize: s.imageSize,
      channels: 1,
      normalization: 'unit',
      augment: s.augment ?? false,
      // The test preprocessing stays the study's (the images are in memory at this size): no 256/227 resize.
      ...(s.augment ? { resizeTo: s.imageSize } : {}),
      validation: 'classes',
      fold: 0,
      ...(s.maxClasses ? { maxClasses: s.maxClasses } : {}),
      // The study's data is in memory already (omniglot-data.ts); a second cache would only copy it.
      cacheInMemory: false,
    },
    model: {
      name: 'small_cnn',
      embeddingDim: s.embeddingDim,
      options: { channels: s.channels },
      ...(s.pretrainedFile ? { pretrained: s.pretrainedFile } : {}),
      ...(s.precision ? { precision: s.precision } : {}),
      ...(s.freezeBatchNorm ? { freezeBatchNorm: true } : {}),
    },
    loss: { name: m.loss, preset: s.lossPreset, ...(s.lossOptions?.[baseLossName(m.loss)] ? { options: s.lossOptions[baseLossName(m.loss)] } : {}) },
    ccp: { ...s.ccp },
    xbm: { memoryBatches: s.xbm.memoryBatches, startStep: xbmStart },
    optimizer: { name: 'adam', lr, ...proxyLr(s, m) },
    schedule: { name: 'constant' },
    training: {
      classesPerBatch: 8,
      samplesPerClass: 4,
      stepsPerEpoch: s.stepsPerEpoch,
      maxEpochs: epochs,
      // Budgeted runs: no global early stopping unless asked (the paper's regime); either way the best-validation
      // epoch's weights are evaluated (MLRC).
      earlyStopPatience: s.earlyStopPatience ?? 100_000,
      ...(budget.kind === 'seconds' ? { timeBudgetSeconds: budget.value } : {}),
      maxValidationSamples: s.maxValidationSamples,
      evalBatchSize: 256,
    },
    evaluation: { recallAt: [1], normalization: 'lipschitz' },
  };
  return parseRunConfig(cfg, `study run ${name}`);
}

/** The proxies' LR multiplier a method's run sets ({} = the loss's own). */
function proxyLr(s: StudySettings, m: StudyMethod): { proxyLrMultiplier?: number } {
  const f = m.kind === 'proxy' ? s.proxyLrMultiplier : m.kind === 'ccp' ? s.ccpProxyLrMultiplier : undefined;
  return f === undefined ? {} : { proxyLrMultiplier: f };
}

export function lrTag(lr: number): string {
  return lr.toExponential(0).replace('+', '');
}

/**
 * A run config as JSON with the pretrained file's path made absolute, so `--runs` given relative or absolute
 * reuses the same records. The study's own MNIST backbone is named by its settings (and pretrained
 * deterministically), so it compares by file name: records stay valid when the runs folder moves.
 */
function comparableConfig(c: RunConfig): string {
  const p = c.model?.pretrained;
  if (!p) return JSON.stringify(c);
  const name = basename(p);
  return JSON.stringify({ ...c, model: { ...c.model, pretrained: STUDY_BACKBONE.test(name) ? name : resolve(p) } });
}

/** The file names mnistBackboneFile gives. */
const STUDY_BACKBONE = /^mnist-backbone-[\d-]+(-e[\d.]+)?\.safetensors$/;

/**
 * Whether a saved record's config is this run's. The saved config is parsed again first, so an option added to
 * the config schema later (with its default) does not invalidate the records of a long, resumable sweep; a saved
 * key the schema no longer knows makes it a different run.
 */
export function sameRunConfig(saved: unknown, cfg: RunConfig): boolean {
  let parsed: RunConfig;
  try {
    parsed = parseRunConfig(saved, 'saved study record');
  } catch {
    return false;
  }
  return comparableConfig(parsed) === comparableConfig(cfg);
}

/** A run's folder (<runsDir>/<method id>/<name>), config and record file. */
export function plannedRun(s: StudySettings, m: StudyMethod, purpose: 'tune' | 'test', seed: number, lr: number, runsDir: string) {
  const budget = purpose === 'tune' ? scaled(s.budget, s.tuneFraction) : s.budget;
  const name = `${m.id}-${purpose}-lr${lrTag(lr)}-seed${seed}`;
  const runDir = join(runsDir, m.id, name);
  return { runDir, cfg: runConfig(s, m, seed, lr, budget, name), recordPath: join(runDir, 'study-record.json') };
}

/** The record saved at `recordPath` when it was made with the config `cfg`; null when absent or made otherwise. */
export function savedRecord(recordPath: string, cfg: RunConfig): RunRecord | null {
  if (!existsSync(recordPath)) return null;
  const saved = JSON.parse(readFileSync(recordPath, 'utf8')) as { config: unknown; record: RunRecord };
  return sameRunConfig(saved.config, cfg) ? saved.record : null;
}

/**
 * The last finished epoch of a killed run in `runDir` when it can be continued (a checkpoint, and the config it was
 * started with is `cfg`); null otherwise.
 */
export function resumableEpoch(runDir: string, cfg: RunConfig): number | null {
  const configPath = join(runDir, 'config.json');
  if (!existsSync(join(runDir, 'checkpoint.safetensors')) || !existsSync(configPath)) return null;
  if (!sameRunConfig(JSON.parse(readFileSync(configPath, 'utf8')), cfg)) return null;
  const metrics = join(runDir, 'metrics.jsonl');
  if (!existsSync(metrics)) return 0;
  const epochs = readFileSync(metrics, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"kind":"epoch"'))
    .flatMap((l) => {
      try {
        return [(JSON.parse(l) as { epoch: number }).epoch];
      } catch {
        return []; // a line cut by the kill
      }
    });
  return epochs.length ? Math.max(...epochs) : 0;
}

/** Runs (or reloads) one training run. */
export async function runOne(
  s: StudySettings,
  m: StudyMethod,
  purpose: 'tune' | 'test',
  seed: number,
  lr: number,
  data: RunData,
  runsDir: string,
  fresh: boolean,
): Promise<RunRecord> {
  const { runDir, cfg, recordPath } = plannedRun(s, m, purpose, seed, lr, runsDir);
  const name = cfg.name;
  const saved = fresh ? null : savedRecord(recordPath, cfg);
  if (saved) return { ...saved, reused: true };
  // A run killed mid-way (a sweep stopped at its deadline) continues from its last epoch's checkpoint.
  const resumeFrom = fresh ? null : resumableEpoch(runDir, cfg);
  if (resumeFrom === null) rmSync(runDir, { recursive: true, force: true });
  const t0 = Date.now();
  const r = await train(cfg, { runDir, quiet: true, data, keepTestEmbeddings: purpose === 'test', resume: resumeFrom !== null });
  const wallSeconds = (Date.now() - t0) / 1000;
  // The report is written after the clock stops, and only for the reported (test) runs.
  const report = r.testEmbeddings ? await writeRunReport(runDir, { data, test: r.testEmbeddings }) : undefined;
  if (!r.test) throw new Error(`${name}: training ended without a final evaluation (${r.stopReason})`);
  const stepOfEpoch = new Map(r.history.map((h) => [h.epoch, h.step]));
  const record: RunRecord = {
    method: m.id,
    label: m.label,
    loss: m.loss,
    purpose,
    seed,
    lr,
    steps: r.steps,
    epochs: r.epochs,
    bestEpoch: r.bestEpoch,
    stopReason: r.stopReason,
    bestValMapAtR: r.bestValidationMapAtR,
    final: { precisionAt1: r.test.precisionAt1 ?? NaN, rPrecision: r.test.rPrecision ?? NaN, mapAtR: r.test.mapAtR ?? NaN, numQueries: r.test.numQueries },
    projections: r.ccpProjections.map((p) => ({
      epoch: p.epoch,
      step: stepOfEpoch.get(p.epoch) ?? NaN,
      t: p.t,
      ...(p.coveringRadiusBefore !== undefined ? { coveringRadiusBefore: p.coveringRadiusBefore, proxySpreadBefore: p.proxySpreadBefore } : {}),
      ...(p.coveringRadius !== undefined ? { coveringRadius: p.coveringRadius, proxySpread: p.proxySpread } : {}),
    })),
    curve: r.history.map((h) => ({ epoch: h.epoch, step: h.step, valMapAtR: h.validation.mapAtR, seconds: h.seconds, projected: h.ccp?.projected ?? false })),
    trainSeconds: r.wallSeconds,
    wallSeconds,
    runDir,
    ...(report ? { report } : {}),
    ...(resumeFrom !== null ? { resumedFromEpoch: resumeFrom } : {}),
  };
  // Only the record is kept; checkpoints and weights of ~70 runs are not needed for the report.
  for (const f of ['checkpoint.safetensors', 'model.safetensors']) rmSync(join(runDir, f), { force: true });
  writeFileSync(recordPath, JSON.stringify({ config: cfg, record }, null, 2) + '\n');
  return record;
}

export interface RunStudyOptions {
  settings: StudySettings;
  /** Folder of the run folders (and the decoded-image cache). */
  runsDir: string;
  /** Omniglot zips' folder (default: the data layer's default). */
  omniglotRoot?: string;
  /** Ignore saved per-run records. */
  fresh?: boolean;
  log?: (line: string) => void;
  /** Already loaded data (tests). */
  data?: OmniglotStudyData;
}

/** Where the MNIST-pretrained backbone of these settings lives: next to the run folders, shared by studies. */
export function mnistBackboneFile(s: StudySettings, runsDir: string): string {
  const epochs = s.pretrainEpochs ?? DEFAULT_PRETRAIN_EPOCHS;
  return resolve(join(runsDir, '..', `mnist-backbone-${s.channels.join('-')}${epochs === DEFAULT_PRETRAIN_EPOCHS ? '' : `-e${epochs}`}.safetensors`));
}

/**
 * Sets `s.pretrainedFile` from `s.pretrained`: 'mnist' pretrains the small CNN's backbone on MNIST once (kept next to
 * the run folders, reused after), { file } checks the given weights file exists, 'none' leaves it unset.
 */
export async function prepareBackbone(s: StudySettings, runsDir: string, log: (line: string) => void): Promise<void> {
  const p = s.pretrained ?? 'none';
  if (p === 'none') return;
  if (typeof p === 'object') {
    if (!existsSync(p.file))
      throw new Error(`--pretrained: backbone weights file '${p.file}' does not exist (make one with 'ccp-dml pretrain' or use 'mnist')`);
    s.pretrainedFile = resolve(p.file);
    return;
  }
  const epochs = s.pretrainEpochs ?? DEFAULT_PRETRAIN_EPOCHS;
  const file = mnistBackboneFile(s, runsDir);
  const r = await pretrainMnistBackbone({ out: file, channels: s.channels, epochs, threads: s.threads, log });
  if (r.reused) log(`pretrained backbone: ${file} (reused)`);
  s.pretrainedFile = resolve(file);
}

/** Runs the whole study: LR search per method, then the seeds; returns every record. */
export async function runStudy(o: RunStudyOptions): Promise<StudyResult> {
  const s = o.settings;
  const log = o.log ?? (() => {});
  const startedAt = new Date();
  const t0 = Date.now();
  mkdirSync(o.runsDir, { recursive: true });
  const cacheFile = join(o.runsDir, '..', `omniglot-${s.imageSize}px${s.maxClasses ? `-${s.maxClasses}cls` : ''}.u8`);
  const data = o.data ?? (await loadOmniglotStudyData({ root: o.omniglotRoot, size: s.imageSize, cacheFile, maxClasses: s.maxClasses }));
  if (!o.data)
    log(
      `omniglot: ${data.background.size} + ${data.evaluation.size} images at ${s.imageSize}px (${data.fromCache ? 'from cache' : 'decoded'} in ${data.decodeSeconds.toFixed(1)} s)`,
    );
  await prepareBackbone(s, o.runsDir, log);
  const testData = studyRunData(data, { maxClasses: s.maxClasses });
  const tuneData = studyRunData(data, { maxClasses: s.maxClasses, testIsValidation: true });
  const searched = (m: StudyMethod) => s.lrGrid.length > 1 && s.fixedLrs?.[m.id] === undefined;
  const total = s.methods.reduce((a, m) => a + (searched(m) ? s.lrGrid.length : 0) + s.seeds.length, 0);
  let done = 0;
  const runs: RunRecord[] = [];
  const tuning: StudyResult['tuning'] = {};
  const note = (r: RunRecord) => {
    done++;
    const el = (Date.now() - t0) / 1000;
    const eta = (el / done) * (total - done);
    const proj = r.projections.length ? `, ${r.projections.length} projections` : '';
    const what = r.purpose === 'tune' ? 'val' : 'test';
    log(
      `[${done}/${total}] ${r.label.padEnd(11)} ${r.purpose} seed ${r.seed} lr ${lrTag(r.lr)}: ${what} MAP@R ${(100 * r.final.mapAtR).toFixed(2)} P@1 ${(100 * r.final.precisionAt1).toFixed(2)}` +
        ` (${r.steps} steps, best epoch ${r.bestEpoch}${proj}, ${r.wallSeconds.toFixed(0)} s; elapsed ${(el / 60).toFixed(1)} min, ~${(eta / 60).toFixed(1)} min left)`,
    );
  };
  for (const m of s.methods) {
    let lr = s.fixedLrs?.[m.id] ?? s.lrGrid[0]!;
    if (searched(m)) {
      const grid: StudyResult['tuning'][string]['grid'] = [];
      for (const candidate of s.lrGrid) {
        const r = await runOne(s, m, 'tune', s.tuneSeed, candidate, tuneData, o.runsDir, o.fresh ?? false);
        runs.push(r);
        note(r);
        grid.push({ lr: candidate, valMapAtR: r.final.mapAtR, bestEpochValMapAtR: r.bestValMapAtR });
      }
      // Selection on the whole validation fold (the tuning runs' "test" set is the validation classes).
      lr = grid.reduce((a, b) => (b.valMapAtR > a.valMapAtR ? b : a)).lr;
      tuning[m.id] = { grid, chosenLr: lr };
    } else tuning[m.id] = { grid: [], chosenLr: lr };
    for (const seed of s.seeds) {
      const r = await runOne(s, m, 'test', seed, lr, testData, o.runsDir, o.fresh ?? false);
      runs.push(r);
      note(r);
    }
  }
  const { cpus, loadavg } = await import('node:os');
  return {
    settings: s,
    data: {
      trainClasses: testData.train.numClasses,
      trainImages: testData.train.size,
      validationClasses: testData.validation.numClasses,
      validationImages: testData.validation.size,
      testClasses: testData.test.query.numClasses,
      testImages: testData.test.query.size,
      decodeSeconds: data.decodeSeconds,
    },
    tuning,
    runs,
    wallSeconds: (Date.now() - t0) / 1000,
    runSeconds: runs.reduce((a, r) => a + r.wallSeconds, 0),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    host: { cpus: cpus().length, loadAverage: loadavg() },
  };
}
