// The training loop of one model: epochs of N steps, each step forward, loss, backward, the gradient pipeline
// and the optimiser step; validation MAP@R each epoch; a checkpoint per epoch (atomic, resumable to the same
// result); the final test evaluation of the best weights. Everything else a run does (CCP's projections, XBM,
// early stopping, the LR schedule, the metrics log, progress, the user's own callbacks) is a callback
// (training/hooks/), called at the points named in hooks/callback.ts.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, int64, tidy, manualSeed, setNumThreads, getNumThreads, liveTensors, releaseFinalizedWrappers } from '../engine/index.js';
import { saveModule, writeFileAtomic } from '../engine/serialization/index.js';
import { BatchLoader, ImageLoader, MPerClassSampler, deriveSeed, type ImageDataset } from '../data/index.js';
import { isCcpLoss, type CcpPoolPreprocessing } from '../ccp/index.js';
import type { MetricLoss } from '../losses/index.js';
import type { EmbeddingNet } from '../models/index.js';
import { parseRunConfig, type RunConfig } from './config.js';
import { prepareData, type RunData } from './data-setup.js';
import { resolveDevice, checkBackendFor, type Device } from './device.js';
import { buildModel, buildLoss, buildOptimizer, isStatefulLoss, type OptimizerSetup, type StatefulLoss } from './build.js';
import { buildSchedule } from './schedule.js';
import { embedItems, evaluateEmbeddings } from './embed.js';
import type { EmbedFn } from './sharded-embed.js';
import { saveRunCheckpoint, restoreRunCheckpoint } from './checkpoint.js';
import { MetricsLog } from './metrics-log.js';
import { checkTrainingBounds } from './bounds.js';
import { checkEmbeddings, checkLoss, checkGradNorm, chanceWarning, type StepWhere } from './divergence.js';
import { withProgress } from './task-progress.js';
import { setupSummary } from './setup-summary.js';
import { buildGradientPipeline, type GradientPipeline } from './gradient-pipeline.js';
import { buildLossScaling, type LossScaling } from './loss-scaling.js';
import { EpochValidator } from './validate-epoch.js';
import { openRunFolder, type RunFolder } from './run-folder.js';
import { MODEL_FILE } from './run-files.js';
import type { EpochRecord, StopReason, TestEmbeddings, TrainResult } from './run-types.js';
import type { TrainCallback, TrainContext } from './hooks/callback.js';
import { CallbackList } from './hooks/callback-list.js';
import { builtinCallbacks } from './hooks/builtin.js';
import type { EarlyStoppingHook } from './hooks/early-stopping.js';
import { EARLY_STOPPING } from './hooks/early-stopping.js';
import type { CcpHook } from './hooks/ccp.js';
import { DataParallel, type DistributedOptions } from './distributed/data-parallel.js';
import { checkSameRun, syncBatchNorm } from '../distributed/index.js';

export type { EpochRecord, TestEmbeddings, TrainResult, ValidationMetrics, StopReason } from './run-types.js';

export interface TrainOptions {
  /** Run folder; default `<outputDir>/<name>`. */
  runDir?: string;
  /** Continue from the run folder's checkpoint. Without it, a folder that holds a checkpoint is an error. */
  resume?: boolean;
  /** No progress output. */
  quiet?: boolean;
  /** Stop (as if killed) after this many epochs of this invocation, leaving the checkpoint; for tests. */
  stopAfterEpochs?: number;
  /** Keep the test embeddings in the result (for ensembles). */
  keepTestEmbeddings?: boolean;
  /** Prepared data (several runs over the same data share it). */
  data?: RunData;
  /**
   * Your callbacks, run in order after the trainer's own (training/hooks/callback.ts). The HTML run report is
   * one: report.runReportCallback() (the CLI adds it unless --no-report).
   */
  callbacks?: readonly TrainCallback[];
  /**
   * Data-parallel training: this process is one rank of `distributed.group` (ProcessGroup.fromEnv() under
   * torchrun-style variables). Every rank calls train() with the same config; N ranks with B/N rows each train
   * what one process trains with B. Rank 0 writes the run folder; the other ranks only read it (resume).
   */
  distributed?: DistributedOptions;
}

/** Everything a run works with, built once at its start. */
interface Run {
  cfg: RunConfig;
  folder: RunFolder;
  options: TrainOptions;
  data: RunData;
  model: EmbeddingNet;
  loss: MetricLoss;
  setup: OptimizerSetup;
  pipeline: GradientPipeline;
  /** Dynamic loss scaling (fp16), or null. */
  lossScaling: LossScaling | null;
  loader: BatchLoader;
  validator: EpochValidator;
  evalImages: (ds: ImageDataset) => ImageLoader;
  callbacks: CallbackList;
  early: EarlyStoppingHook;
  ccp: CcpHook | null;
  lossState: StatefulLoss | null;
  execution: TrainResult['execution'];
  log: MetricsLog | null;
  resumed: boolean;
  /** Data parallelism (null: a single process). */
  dp: DataParallel | null;
  /** Where the model, the loss's tensors and the batches live. */
  device: Device;
  /** This process writes the run's files (false on ranks other than 0 of a distributed run: they write nothing). */
  writes: boolean;
  state: { epoch: number; step: number; history: EpochRecord[]; elapsedBefore: number; started: number };
}

/**
 * Trains one model as the config says. A run that fails before its first checkpoint (bad data, a bad option)
 * leaves no run folder behind, unless the folder existed before.
 */
export async function train(config: RunConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const cfg = parseRunConfig(config);
  const runDir = options.runDir ?? join(cfg.outputDir, cfg.name);
  const madeHere = !existsSync(runDir);
  const main = (options.distributed?.group.rank ?? 0) === 0;
  try {
    return await trainIn(cfg, runDir, options);
  } catch (e) {
    if (main && madeHere && !existsSync(join(runDir, 'checkpoint.safetensors'))) rmSync(runDir, { recursive: true, force: true });
    throw e;
  }
}

async function trainIn(config: RunConfig, runDir: string, given: TrainOptions): Promise<TrainResult> {
  const dp = given.distributed ? new DataParallel(given.distributed) : null;
  const main = dp?.isMain ?? true;
  // Only rank 0 talks to the user; the others' failures still reach the launcher as errors.
  const options = main ? given : { ...given, quiet: true };
  // Same config (threads may differ per rank) and code on every rank, before anything is written.
  if (dp) checkSameRun(dp.group, { config: { ...config, threads: null } });
  const folder = openRunFolder(config, runDir, { ...options, writes: main });
  if (folder.cfg.threads) setNumThreads(folder.cfg.threads);
  manualSeed(folder.cfg.seed);
  const run = await buildRun(folder, options, dp);
  try {
    if (run.resumed) restore(run);
    await beginTraining(run);
    const stopReason = await trainEpochs(run);
    return await finishRun(run, stopReason);
  } finally {
    run.callbacks.close();
  }
}

/** Data, loaders, model, loss, optimiser, gradient pipeline and callbacks of a run. */
async function buildRun(folder: RunFolder, options: TrainOptions, dp: DataParallel | null): Promise<Run> {
  const { cfg, warn } = folder;
  // Before the data is prepared: an unusable device is refused at once.
  const device = resolveDevice(cfg.device, { localRank: dp?.group.localRank });
  if (dp) checkBackendFor(device.device, dp.group);
  const data = options.data ?? (await prepareData(cfg.dataset, cfg.seed, { quiet: options.quiet, progress: !options.quiet }));
  for (const s of data.report?.skipped ?? []) warn(`skipped a bad image of the ${s.split} split: ${s.reason}`);
  for (const n of data.report?.notes ?? []) warn(n);
  const t = cfg.training;
  const augment = cfg.dataset.augment;
  const trainImages = {
    mode: augment ? 'train' : 'test',
    transform: data.transform,
    cache: cfg.dataset.cacheInMemory ? (augment ? 'decoded' : 'output') : 'none',
    onBadItem: cfg.dataset.onBadItem,
  } as const;
  const evalImages = (ds: ImageDataset) =>
    new ImageLoader(ds, { mode: 'test', transform: data.transform, cache: cfg.dataset.cacheInMemory ? 'output' : 'none', onBadItem: cfg.dataset.onBadItem });
  const inputShape = new ImageLoader(data.train, { ...trainImages, seed: deriveSeed(cfg.seed, 1) }).shape;
  checkTrainingBounds(t, data.train, inputShape);
  const model = buildModel(cfg, inputShape, device.device);
  if (dp && cfg.model.syncBatchNorm) syncBatchNorm(model, dp.group);
  const loss = buildLoss(cfg, data.train.numClasses, device.device);
  const setup = buildOptimizer(cfg, model, loss);
  const schedule = buildSchedule(cfg, setup.optimizer);
  const lossScaling = buildLossScaling(cfg.optimizer.lossScaling, model.precision);
  const execution = {
    precision: model.precision,
    memoryFormat: model.memoryFormat,
    frozenBatchNormFolded: model.batchNormFrozen && model.batchNormFolding,
    threads: getNumThreads(),
    device: device.device,
    deviceReason: device.reason,
  };
  const info = await setupSummary(cfg, data, {
    threads: getNumThreads(),
    ccpPools: isCcpLoss(loss),
    inputShape,
    precision: model.precision,
    memoryFormat: model.memoryFormat,
    frozenBatchNormFolded: execution.frozenBatchNormFolded,
  });
  for (const w of info.warnings) process.stderr.write(`warning: ${w}\n`);
  if (!options.quiet) process.stderr.write(info.lines.map((l) => `setup: ${l}\n`).join(''));
  // CCP's candidate pools: the training split with the training batches' preprocessing (the reference's) or the test one.
  const poolImages = (p: CcpPoolPreprocessing) =>
    p === 'train' ? new ImageLoader(data.train, { ...trainImages, seed: deriveSeed(cfg.seed, 3) }) : evalImages(data.train);
  const embed: EmbedFn | undefined = dp?.embed;
  const builtin = builtinCallbacks({ cfg, model, loss, data, setup, schedule, lossScaling, poolImages, execution, quiet: Boolean(options.quiet), embed });
  // Every rank draws the same global batches (same seed); a rank loads its slice of each.
  const global = new MPerClassSampler(data.train, { m: t.samplesPerClass, classesPerBatch: t.classesPerBatch, seed: deriveSeed(cfg.seed, 5) });
  const sampler = dp ? dp.sliceSampler(global) : global;
  const positionOffset = dp ? dp.positionOffset(t.samplesPerClass * t.classesPerBatch) : 0;
  return {
    cfg,
    folder,
    options,
    data,
    model,
    loss,
    setup,
    pipeline: buildGradientPipeline(cfg.optimizer, setup, loss, lossScaling),
    lossScaling,
    loader: new BatchLoader(data.train, sampler, { ...trainImages, seed: deriveSeed(cfg.seed, 6), prefetch: t.prefetchBatches, positionOffset }),
    validator: new EpochValidator(model, evalImages(data.validation), cfg, warn, dp ?? undefined),
    evalImages,
    callbacks: new CallbackList({ builtin: dp ? [...builtin.list, dp.callback] : builtin.list, user: options.callbacks ?? [] }),
    early: builtin.early,
    ccp: builtin.ccp,
    lossState: isStatefulLoss(loss) && !isCcpLoss(loss) ? loss : null,
    execution,
    log: null,
    resumed: folder.resuming,
    dp,
    device: device.device,
    writes: dp?.isMain ?? true,
    state: { epoch: 0, step: 0, history: [], elapsedBefore: 0, started: Date.now() },
  };
}

function restore(run: Run): void {
  const { model, setup, loader, lossState, callbacks, cfg } = run;
  const needs = {
    stepsPerEpoch: cfg.training.stepsPerEpoch,
    ccp: run.ccp !== null,
    schedule: cfg.schedule.name !== 'constant',
    lossScaling: run.lossScaling !== null,
  };
  const r = restoreRunCheckpoint(run.folder.checkpointPath, { model, optimizer: setup.optimizer, loader, lossState }, callbacks, needs, run.device);
  Object.assign(run.state, { epoch: r.epoch, step: r.step, history: r.history, elapsedBefore: r.elapsedSeconds });
  for (const name of r.orphans) run.folder.warn(`the checkpoint holds the state of a callback named '${name}' that this run does not have; it is ignored`);
}

const elapsed = (run: Run) => run.state.elapsedBefore + (Date.now() - run.state.started) / 1000;

/** The context every callback event gets (a fresh object: epoch and step are the values of the moment). */
function context(run: Run): TrainContext {
  const s = run.state;
  return {
    config: run.cfg,
    runDir: run.folder.runDir,
    writesFiles: run.writes,
    model: run.model,
    loss: run.loss,
    optimizer: run.setup.optimizer,
    data: run.data,
    quiet: Boolean(run.options.quiet),
    resumed: run.resumed,
    epoch: s.epoch,
    step: s.step,
    history: s.history,
    log: (record) => run.log?.write(record),
    warn: run.folder.warn,
  };
}

/**
 * Opens the metrics log (made to agree with the checkpoint), runs onTrainBegin, then routes warnings to the log.
 * A rank that writes no files has no log: its ctx.log does nothing.
 */
async function beginTraining(run: Run): Promise<void> {
  if (!run.writes) {
    await run.callbacks.trainBegin(context(run));
    run.state.started = Date.now();
    return;
  }
  const log = new MetricsLog(join(run.folder.runDir, 'metrics.jsonl'));
  run.log = log;
  const fixed = log.reconcile(run.state.history);
  await run.callbacks.trainBegin(context(run));
  run.state.started = Date.now();
  run.folder.attachLog((message) => log.write({ kind: 'warning', epoch: run.state.epoch, message }));
  if (fixed.dropped || fixed.restored)
    run.folder.warn(`${log.path}: dropped ${fixed.dropped} line(s) the checkpoint does not hold and restored ${fixed.restored} (the run was killed mid-epoch)`);
}

/** Epochs until max epochs, a stop request, the time budget or (tests) stopAfterEpochs; returns why it ended. */
async function trainEpochs(run: Run): Promise<StopReason> {
  const t = run.cfg.training;
  let epochsThisCall = 0;
  try {
    while (run.state.epoch < t.maxEpochs && !run.early.early.shouldStop) {
      const meanLoss = await trainEpoch(run);
      await endEpoch(run, meanLoss);
      epochsThisCall++;
      const stop = stopAfterEpoch(run, epochsThisCall);
      if (stop) return stop;
    }
    return 'max-epochs';
  } finally {
    run.loader.close();
  }
}

function stopAfterEpoch(run: Run, epochsThisCall: number): StopReason | null {
  const t = run.cfg.training;
  const request = run.callbacks.stopRequest;
  if (request) return request.by === EARLY_STOPPING ? 'early-stopping' : 'callback';
  if (t.timeBudgetSeconds !== undefined && elapsed(run) >= t.timeBudgetSeconds) return 'time-budget';
  const stopAfter = run.options.stopAfterEpochs;
  if (stopAfter !== undefined && epochsThisCall >= stopAfter && run.state.epoch < t.maxEpochs) return 'interrupted';
  return null;
}

/** One epoch's steps; returns their mean loss. */
async function trainEpoch(run: Run): Promise<number> {
  const s = run.state;
  s.epoch++;
  // Torch's generator is re-seeded per epoch so that a resumed run draws what a straight run draws.
  manualSeed(deriveSeed(run.cfg.seed, 7, s.epoch));
  run.model.train();
  await run.callbacks.epochBegin(context(run));
  const steps = run.cfg.training.stepsPerEpoch;
  let lossSum = 0;
  for (let k = 1; k <= steps; k++) {
    const value = await trainStep(run, k);
    lossSum += value;
    run.callbacks.stepEnd(() => ({ ...context(run), stepInEpoch: k, lr: run.setup.optimizer.lrs[0]!, value, epochLoss: lossSum / k }));
  }
  return lossSum / steps;
}

/**
 * One optimiser step: forward, loss, backward, afterBackward, the gradient pipeline, beforeOptimizerStep, step.
 * With loss scaling, a step whose gradients hold an inf or NaN skips the pipeline's stages and the optimiser
 * update (it still counts as a step, as in a PyTorch loop with GradScaler).
 */
async function trainStep(run: Run, stepInEpoch: number): Promise<number> {
  const batch = await run.loader.next();
  await releaseFinalizedWrappers();
  if (!batch) throw new Error('training sampler ran out of batches');
  const { model, loss, pipeline, callbacks } = run;
  const lr = run.setup.optimizer.lrs[0]!;
  const at: StepWhere = { epoch: run.state.epoch, step: stepInEpoch, globalStep: run.state.step, lr };
  const value = tidy(() => {
    const emb = model.forward(tensor(batch.images, [...batch.shape], { device: run.device }));
    checkEmbeddings(emb, at);
    const labels = int64(batch.labels, undefined, { device: run.device });
    // Distributed: the loss sees the global batch (this rank's rows keep their gradient path).
    const g = run.dp ? run.dp.gatherBatch(emb, labels) : { embeddings: emb, labels };
    const out = loss.forward(g.embeddings, g.labels);
    const v = out.item();
    checkLoss(v, at);
    pipeline.backward(out);
    return v;
  });
  const stepContext = () => ({ ...context(run), stepInEpoch, lr });
  callbacks.afterBackward(stepContext);
  pipeline.transform((norm) => checkGradNorm(norm, at));
  callbacks.beforeOptimizerStep(stepContext);
  pipeline.step(at);
  run.state.step++;
  return value;
}

/** Validation, onValidation, the epoch record, onEpochEnd, the checkpoint. */
async function endEpoch(run: Run, meanLoss: number): Promise<void> {
  const s = run.state;
  const optimizer = run.setup.optimizer;
  const validation = await run.validator.run(s.epoch, optimizer.lrs[0]!);
  const extra = await run.callbacks.validation(context(run), validation);
  const record: EpochRecord = {
    epoch: s.epoch,
    step: s.step,
    loss: meanLoss,
    validation,
    lr: optimizer.lrs[0]!,
    seconds: elapsed(run),
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    liveTensors: liveTensors(),
    bestEpoch: run.early.early.bestEpoch,
    ...extra,
  };
  s.history.push(record);
  await run.callbacks.epochEnd(context(run), record);
  const core = {
    epoch: s.epoch,
    step: s.step,
    history: s.history,
    elapsedSeconds: elapsed(run),
    model: run.model,
    optimizer,
    loader: run.loader,
    lossState: run.lossState,
  };
  const parts = run.callbacks.checkpointParts();
  if (run.writes) saveRunCheckpoint(run.folder.checkpointPath, core, parts, run.cfg);
}

/** The result; unless interrupted, the best weights' test evaluation, final-metrics.json and onTrainEnd. */
async function finishRun(run: Run, stopReason: StopReason): Promise<TrainResult> {
  const { state: s, early, folder } = run;
  const atChance =
    stopReason === 'interrupted'
      ? null
      : chanceWarning(
          s.history.find((h) => h.epoch === early.early.bestEpoch),
          run.validator.chanceP1,
        );
  if (atChance) folder.warn(atChance);
  const request = run.callbacks.stopRequest;
  const result: TrainResult = {
    runDir: folder.runDir,
    epochs: s.epoch,
    steps: s.step,
    bestEpoch: early.early.bestEpoch,
    bestValidationMapAtR: early.early.best,
    stopReason,
    ...(stopReason === 'callback' && request ? { stoppedBy: request.message ? `${request.by}: ${request.message}` : request.by } : {}),
    history: s.history,
    ccpProjections: run.ccp ? [...run.ccp.controller.history] : [],
    wallSeconds: elapsed(run),
    execution: run.execution,
    warnings: folder.warnings,
  };
  if (stopReason === 'interrupted') {
    await run.callbacks.trainEnd(context(run), result, undefined);
    return result;
  }
  early.restoreBest();
  if (run.writes) saveModule(join(folder.runDir, MODEL_FILE), run.model, { config: JSON.stringify(run.cfg), epoch: String(early.early.bestEpoch) });
  const test = await testEvaluation(run, result);
  if (run.writes)
    writeFileAtomic(join(folder.runDir, 'final-metrics.json'), JSON.stringify({ ...result, history: undefined, testEmbeddings: undefined }, null, 2) + '\n');
  await run.callbacks.trainEnd(context(run), result, test);
  return result;
}

/** Embeds the test split with the (restored best) model and evaluates it into `result`. */
async function testEvaluation(run: Run, result: TrainResult): Promise<TestEmbeddings> {
  const { data, cfg, options, model } = run;
  const queryImages = run.evalImages(data.test.query);
  const galleryImages = data.test.gallery ? run.evalImages(data.test.gallery) : undefined;
  const embed = (images: ImageLoader, what: string) =>
    withProgress(`embedding ${what}`, images.dataset.size, 'images', !options.quiet, (update) =>
      (run.dp?.embed ?? embedItems)(model, images, { batchSize: cfg.training.evalBatchSize, onProgress: update }),
    );
  const query = await embed(queryImages, data.test.gallery ? 'test queries' : 'test split');
  const gallery = galleryImages ? await embed(galleryImages, 'test gallery') : undefined;
  result.test = evaluateEmbeddings(query, gallery, { ...cfg.evaluation, seed: cfg.seed });
  if (options.keepTestEmbeddings) result.testEmbeddings = { query, gallery };
  for (const [split, images] of [
    ['training', run.loader.images],
    ['validation', run.validator.images],
    ['test', queryImages],
    ['test gallery', galleryImages],
  ] as const) {
    for (const i of images?.bad ?? []) run.folder.warn(`skipped an image of the ${split} split that could not be decoded: ${images!.dataset.where(i)}`);
  }
  return { query, gallery };
}
