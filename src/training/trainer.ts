// The training loop of one model: epochs of N steps, validation MAP@R each epoch, the CCP projection
// controller, global early stopping with best-weight restore, a checkpoint per epoch (atomic, resumable to the
// same result), a progress bar, a JSONL metrics log, and the final test evaluation.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, int64, tidy, noGrad, keep, manualSeed, setNumThreads, getNumThreads, liveTensors, releaseFinalizedWrappers, type Tensor, type Precision } from '../engine/index.js';
import { addWeightDecayGrad, clipGradNorm, clipGradValue } from '../engine/optim/index.js';
import { saveModule, saveSafetensors, writeFileAtomic, removeStaleTempFiles } from '../engine/serialization/index.js';
import { BatchLoader, ImageLoader, MPerClassSampler, OnePerClassSampler, Rng, deriveSeed, type ImageDataset } from '../data/index.js';
import { evaluateRetrieval, type RetrievalResult } from '../evaluation/index.js';
import { isCcpLoss, type CcpContext, type CcpProjectionEvent } from '../ccp/index.js';
import type { MetricLoss } from '../losses/index.js';
import type { EmbeddingNet } from '../models/index.js';
import { parseRunConfig, type RunConfig } from './config.js';
import { prepareData, type RunData } from './data-setup.js';
import { buildModel, buildLoss, buildOptimizer, isStatefulLoss, type OptimizerSetup } from './build.js';
import { buildSchedule, type EpochSchedule } from './schedule.js';
import { embedItems, asEmbeddingInput, evaluateEmbeddings, type Embeddings } from './embed.js';
import { EarlyStopping } from './early-stopping.js';
import { saveCheckpoint, loadCheckpoint, checkpointConfig, prefixed, section } from './checkpoint.js';
import { validateTrainerState, type TrainerState } from './checkpoint-validation.js';
import { MetricsLog } from './metrics-log.js';
import { checkTrainingBounds } from './bounds.js';
import { checkEmbeddings, checkLoss, checkGradNorm, checkValidationEmbeddings, embeddingsCollapsed, chancePrecisionAt1, chanceWarning } from './divergence.js';
import { TrainingProgress } from './progress.js';
import { writeRunReport, PROXIES_FILE } from '../report/index.js';
import { withProgress } from './task-progress.js';
import { resolveConfigPaths } from './config-paths.js';
import { setupSummary } from './setup-summary.js';
import type { EpochRecord, TrainResult } from './run-types.js';
import type { TrainCallback } from './hooks/callback.js';

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
  /** Write the HTML run report (report.html) at the end; default true. A failing report only warns. */
  report?: boolean;
  /** Your callbacks, run in order after the trainer's own (see training/hooks/callback.ts). */
  callbacks?: readonly TrainCallback[];
}

export type { EpochRecord, TestEmbeddings, TrainResult, ValidationMetrics, StopReason } from './run-types.js';

/** Config keys that may change between a run and its resume. */
const RESUMABLE_KEYS = new Set(['training.maxEpochs', 'training.timeBudgetSeconds', 'training.earlyStopPatience', 'training.logEverySteps', 'threads', 'outputDir']);

function flatten(obj: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(obj));
  return out;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function checkSameConfig(saved: RunConfig, now: RunConfig, path: string): void {
  const a = flatten(saved);
  const b = flatten(now);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const diff = [...keys].filter((k) => !RESUMABLE_KEYS.has(k) && a.get(k) !== b.get(k));
  if (diff.length) {
    throw new Error(`cannot resume ${path}: the config differs from the run's in ${diff.map((k) => `${k} (${a.get(k) ?? 'unset'} -> ${b.get(k) ?? 'unset'})`).join(', ')}`);
  }
}

/**
 * Trains one model as the config says. A run that fails before its first checkpoint (bad data, a bad option)
 * leaves no run folder behind, unless the folder existed before.
 */
export async function train(config: RunConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const cfg = parseRunConfig(config);
  const runDir = options.runDir ?? join(cfg.outputDir, cfg.name);
  const madeHere = !existsSync(runDir);
  try {
    return await trainIn(cfg, runDir, options);
  } catch (e) {
    if (madeHere && !existsSync(join(runDir, 'checkpoint.safetensors'))) rmSync(runDir, { recursive: true, force: true });
    throw e;
  }
}

async function trainIn(config: RunConfig, runDir: string, options: TrainOptions): Promise<TrainResult> {
  // Paths are stored absolute in config.json, so eval/embed find the data from any folder.
  const cfg = resolveConfigPaths(config, process.cwd());
  const ckptPath = join(runDir, 'checkpoint.safetensors');
  const configPath = join(runDir, 'config.json');
  const hasCheckpoint = existsSync(ckptPath);
  if (hasCheckpoint && !options.resume) {
    throw new Error(`run folder ${runDir} already holds a checkpoint: pass --resume to continue it, or choose another --name / --out`);
  }
  const warnings: string[] = [];
  // Warnings go to stderr, to metrics.jsonl (once it is open) and into the result.
  let logWarning: ((message: string) => void) | null = null;
  const warn = (message: string) => {
    warnings.push(message);
    logWarning?.(message);
    if (!options.quiet) process.stderr.write(`warning: ${message}\n`);
  };
  if (options.resume) {
    // The checkpoint records the config it was trained with; config.json is only a copy a user may delete.
    const saved = hasCheckpoint ? checkpointConfig(ckptPath) : null;
    if (saved !== null) checkSameConfig(resolveConfigPaths(parseRunConfig(saved, `the config stored in ${ckptPath}`), process.cwd()), cfg, runDir);
    else if (existsSync(configPath)) checkSameConfig(resolveConfigPaths(parseRunConfig(readJson(configPath), configPath), process.cwd()), cfg, runDir);
    else if (hasCheckpoint) {
      throw new Error(`cannot resume ${runDir}: config.json is missing and the checkpoint ${ckptPath} does not record the config it was trained with, so the resumed run could silently differ from it; restore config.json`);
    }
  }
  mkdirSync(runDir, { recursive: true });
  for (const f of removeStaleTempFiles(runDir)) warn(`removed ${f}, left by a write that was killed`);
  writeFileAtomic(configPath, JSON.stringify(cfg, null, 2) + '\n');
  if (cfg.threads) setNumThreads(cfg.threads);
  manualSeed(cfg.seed);

  const data = options.data ?? (await prepareData(cfg.dataset, cfg.seed, { quiet: options.quiet, progress: !options.quiet }));
  for (const s of data.report?.skipped ?? []) warn(`skipped a bad image of the ${s.split} split: ${s.reason}`);
  for (const n of data.report?.notes ?? []) warn(n);
  const t = cfg.training;
  const augment = cfg.dataset.augment;
  const trainMode = augment ? 'train' : 'test';
  const trainCache = cfg.dataset.cacheInMemory ? (augment ? 'decoded' : 'output') : 'none';
  const evalCache = cfg.dataset.cacheInMemory ? 'output' : 'none';
  const policy = { onBadItem: cfg.dataset.onBadItem };
  const evalImages = (ds: ImageDataset) => new ImageLoader(ds, { mode: 'test', transform: data.transform, cache: evalCache, ...policy });

  const trainImages = new ImageLoader(data.train, { mode: trainMode, transform: data.transform, seed: deriveSeed(cfg.seed, 1), cache: trainCache, ...policy });
  const inputShape = trainImages.shape;
  checkTrainingBounds(t, data.train, inputShape);
  const model: EmbeddingNet = buildModel(cfg, inputShape);
  const loss: MetricLoss = buildLoss(cfg, data.train.numClasses);
  const setup: OptimizerSetup = buildOptimizer(cfg, model, loss);
  const schedule: EpochSchedule | null = buildSchedule(cfg, setup.optimizer);
  const controller = isCcpLoss(loss) ? loss.controller : null;
  const xbm = loss as { training?: boolean };
  const setupInfo = await setupSummary(cfg, data, { threads: getNumThreads(), ccpPools: controller !== null, inputShape, precision: model.precision, memoryFormat: model.memoryFormat });
  for (const w of setupInfo.warnings) process.stderr.write(`warning: ${w}\n`);
  if (!options.quiet) process.stderr.write(setupInfo.lines.map((l) => `setup: ${l}\n`).join(''));

  // CCP candidate pools: one-per-class spans of the training split, embedded in inference mode. They use the
  // training preprocessing (the reference code's behaviour, spec 2.4).
  const poolSampler = controller ? new OnePerClassSampler(data.train, { seed: deriveSeed(cfg.seed, 2) }) : null;
  const poolImages = controller ? new ImageLoader(data.train, { mode: trainMode, transform: data.transform, seed: deriveSeed(cfg.seed, 3), cache: trainCache, ...policy }) : null;
  let poolBatches = 0;
  const ctx: CcpContext = {
    parameters: setup.networkParams,
    samplePool: async (bPrime: number): Promise<Tensor> => {
      const C = data.train.numClasses;
      const spans = Array.from({ length: bPrime }, () => poolSampler!.span());
      const emb = await embedItems(model, poolImages!, { indices: spans.flat(), batchSize: t.evalBatchSize, batchIndexOffset: poolBatches });
      poolBatches += Math.ceil((C * bPrime) / t.evalBatchSize);
      if (emb.skipped) throw new Error(`CCP candidate pool: ${emb.skipped.length} training image(s) could not be decoded (${emb.skipped.map((i) => data.train.where(i)).join(', ')}); fix or remove them`);
      // spans.flat() is span-major [b', C, D]; the controller wants [C, b', D].
      return tidy(() => tensor(emb.data, [bPrime, C, emb.dim]).transpose(0, 1).contiguous());
    },
  };

  // A fixed (seeded) validation subset keeps epochs cheap on large validation folds.
  const valIndices = (() => {
    const n = data.validation.size;
    const cap = t.maxValidationSamples;
    if (cap === null || n <= cap) return undefined;
    const idx = Array.from({ length: n }, (_, i) => i);
    new Rng(deriveSeed(cfg.seed, 4)).shuffle(idx);
    return idx.slice(0, cap).sort((a, b) => a - b);
  })();
  const valImages = evalImages(data.validation);
  let collapseReported = false;
  let chanceP1 = 0;
  const validate = async () => {
    const e = await embedItems(model, valImages, { indices: valIndices, batchSize: t.evalBatchSize });
    checkValidationEmbeddings(e.data, epoch, setup.optimizer.lrs[0]!);
    if (!collapseReported && embeddingsCollapsed(e.data, e.dim)) {
      collapseReported = true;
      warn(`epoch ${epoch}: the ${e.labels.length} validation embeddings are all equal (the model collapsed to one point); retrieval is at chance. Lower optimizer.lr or change the loss margins`);
    }
    chanceP1 = chancePrecisionAt1(e.labels);
    const r = evaluateRetrieval({ queries: asEmbeddingInput(e), queryLabels: e.labels, metrics: ['precisionAt1', 'rPrecision', 'mapAtR'], normalize: cfg.evaluation.normalization });
    return { mapAtR: r.mapAtR ?? 0, precisionAt1: r.precisionAt1 ?? 0, rPrecision: r.rPrecision ?? 0 };
  };

  const sampler = new MPerClassSampler(data.train, { m: t.samplesPerClass, classesPerBatch: t.classesPerBatch, seed: deriveSeed(cfg.seed, 5) });
  const loader = new BatchLoader(data.train, sampler, { mode: trainMode, transform: data.transform, seed: deriveSeed(cfg.seed, 6), prefetch: t.prefetchBatches, cache: trainCache, ...policy });

  const early = new EarlyStopping(t.earlyStopPatience, t.minDelta);
  let epoch = 0;
  let step = 0;
  let history: EpochRecord[] = [];
  let elapsedBefore = 0;
  // Best weights so far (model and loss tensors), as clones.
  let best: Map<string, Tensor> | null = null;
  const lossState = () => (isStatefulLoss(loss) && !controller ? Object.entries(loss.stateDict()) : []);
  const snapshot = (): Map<string, Tensor> =>
    noGrad(() => {
      const m = new Map<string, Tensor>();
      for (const [n, v] of prefixed('model.', model.stateDict())) m.set(n, keep(v.clone()));
      loss.parameters().forEach((p, i) => m.set(`lossparam.${i}`, keep(p.clone())));
      return m;
    });
  const restore = (snap: Map<string, Tensor>) =>
    noGrad(() => {
      model.loadStateDict(section(snap, 'model.'));
      loss.parameters().forEach((p, i) => {
        const s = snap.get(`lossparam.${i}`);
        if (s) p.copy_(s);
      });
    });

  if (options.resume && existsSync(ckptPath)) {
    const { file, state: raw } = loadCheckpoint<unknown>(ckptPath);
    try {
      const state = validateTrainerState(ckptPath, raw, file, { stepsPerEpoch: t.stepsPerEpoch, ccp: controller !== null, schedule: schedule !== null });
      model.loadStateDict(section(file, 'model.'));
      setup.optimizer.loadStateDict({ tensors: section(file, 'optim.'), scalars: state.optimizer as never });
      if (isStatefulLoss(loss) && !controller) loss.loadStateDict(Object.fromEntries(section(file, 'loss.')));
      if (controller && state.ccp) controller.loadStateDict({ tensors: section(file, ''), scalars: state.ccp }, setup.networkParams);
      if (schedule && state.schedule) schedule.loadStateDict(state.schedule);
      loader.setState(state.loader);
      if (poolSampler && state.pool) {
        poolSampler.setState(state.pool.sampler);
        poolBatches = state.pool.batches;
      }
      early.load(state.early);
      if (state.hasBest) {
        const b = section(file, 'best.');
        best = new Map([...b].map(([n, v]) => [n, keep(v.clone())]));
      }
      epoch = state.epoch;
      step = state.step;
      history = state.history;
      elapsedBefore = state.elapsedSeconds;
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(msg.includes(ckptPath) ? msg : `cannot resume from checkpoint ${ckptPath}: ${msg}`, { cause: e });
    } finally {
      file.dispose();
    }
  } else if (controller) {
    await controller.onTrainBegin({ ...ctx, epoch: 0 });
  }

  const log = new MetricsLog(join(runDir, 'metrics.jsonl'));
  const execution = { precision: model.precision, memoryFormat: model.memoryFormat, threads: getNumThreads() };
  const fixed = log.reconcile(history);
  log.write({ kind: 'execution', epoch, ...execution });
  logWarning = (message) => log.write({ kind: 'warning', epoch, message });
  for (const w of warnings) logWarning(w);
  if (fixed.dropped || fixed.restored) warn(`${log.path}: dropped ${fixed.dropped} line(s) the checkpoint does not hold and restored ${fixed.restored} (the run was killed mid-epoch)`);
  const progress = new TrainingProgress(t.stepsPerEpoch, t.maxEpochs, !options.quiet);
  const started = Date.now();
  const elapsed = () => elapsedBefore + (Date.now() - started) / 1000;
  const grads = setup.allParams;
  const theta = setup.networkParams.map(([, p]) => p);
  let stopReason: TrainResult['stopReason'] = 'max-epochs';
  let epochsThisCall = 0;

  const saveState = () => {
    const optimState = setup.optimizer.stateDict();
    const ccpState = controller ? controller.stateDict() : null;
    const tensors = new Map<string, Tensor>([
      ...prefixed('model.', model.stateDict()),
      ...prefixed('optim.', optimState.tensors),
      ...prefixed('loss.', lossState()),
      ...(ccpState ? ccpState.tensors : new Map<string, Tensor>()),
      ...(best ? prefixed('best.', best) : []),
    ]);
    const state: TrainerState = {
      version: 1,
      epoch,
      step,
      loader: loader.getState(),
      pool: poolSampler ? { sampler: poolSampler.getState(), batches: poolBatches } : null,
      early: early.state(),
      schedule: schedule ? schedule.stateDict() : null,
      ccp: ccpState ? ccpState.scalars : null,
      optimizer: optimState.scalars,
      history,
      elapsedSeconds: elapsed(),
      hasBest: best !== null,
    };
    saveCheckpoint(ckptPath, { tensors, state, config: cfg });
  };

  try {
    while (epoch < t.maxEpochs && !early.shouldStop) {
      epoch++;
      // Torch's generator is re-seeded per epoch so that a resumed run draws what a straight run draws.
      manualSeed(deriveSeed(cfg.seed, 7, epoch));
      model.train();
      if (xbm.training !== undefined) xbm.training = true;
      progress.startEpoch(epoch, history.length ? history[history.length - 1]!.validation.mapAtR : null);
      let lossSum = 0;
      let windowSum = 0;
      for (let s = 1; s <= t.stepsPerEpoch; s++) {
        const batch = await loader.next();
        await releaseFinalizedWrappers();
        if (!batch) throw new Error('training sampler ran out of batches');
        const at = { epoch, step: s, globalStep: step, lr: setup.optimizer.lrs[0]! };
        const value = tidy(() => {
          const emb = model.forward(tensor(batch.images, [...batch.shape]));
          checkEmbeddings(emb, at);
          const out = loss.forward(emb, int64(batch.labels));
          const v = out.item();
          checkLoss(v, at);
          out.backward();
          return v;
        });
        if (setup.gradientWeightDecay > 0) addWeightDecayGrad(setup.decayParams, setup.gradientWeightDecay);
        controller?.applyRegularizer(theta);
        if (cfg.optimizer.clipNorm !== null) checkGradNorm(clipGradNorm(grads, cfg.optimizer.clipNorm), at);
        if (cfg.optimizer.clipValue !== null) clipGradValue(grads, cfg.optimizer.clipValue);
        setup.optimizer.step();
        setup.optimizer.zeroGrad();
        step++;
        lossSum += value;
        windowSum += value;
        if (t.logEverySteps !== null && s % t.logEverySteps === 0) {
          log.write({ kind: 'step', epoch, step, loss: windowSum / t.logEverySteps, lr: setup.optimizer.lrs[0]! });
          windowSum = 0;
        }
        progress.update({ epoch, step: s, loss: lossSum / s, metric: history.length ? history[history.length - 1]!.validation.mapAtR : null });
      }
      if (xbm.training !== undefined) xbm.training = false;
      const val = await validate();
      const ccpResult = controller ? await controller.onEpochEnd(val.mapAtR, { ...ctx, epoch }) : null;
      if (early.update(epoch, val.mapAtR)) {
        for (const v of best?.values() ?? []) v.dispose();
        best = snapshot();
        saveModule(join(runDir, 'model.safetensors'), model, { config: JSON.stringify(cfg), epoch: String(epoch) });
      }
      schedule?.step(val.mapAtR);
      const record: EpochRecord = {
        epoch,
        step,
        loss: lossSum / t.stepsPerEpoch,
        validation: val,
        lr: setup.optimizer.lrs[0]!,
        seconds: elapsed(),
        rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
        liveTensors: liveTensors(),
        bestEpoch: early.bestEpoch,
        ...(ccpResult ? { ccp: { t: ccpResult.t, lambda: ccpResult.lambda, projected: ccpResult.projected } } : {}),
      };
      history.push(record);
      log.write({ kind: 'epoch', ...record });
      if (ccpResult?.projected) log.write({ kind: 'projection', ...controller!.history[controller!.history.length - 1]! });
      progress.endEpoch(epoch, record.loss, { 'val MAP@R': val.mapAtR, 'val P@1': val.precisionAt1 }, ccpResult?.projected ? `CCP projection t=${ccpResult.t}` : '');
      saveState();
      epochsThisCall++;
      if (early.shouldStop) stopReason = 'early-stopping';
      else if (t.timeBudgetSeconds !== undefined && elapsed() >= t.timeBudgetSeconds) {
        stopReason = 'time-budget';
        break;
      }
      if (options.stopAfterEpochs !== undefined && epochsThisCall >= options.stopAfterEpochs && epoch < t.maxEpochs && !early.shouldStop) {
        stopReason = 'interrupted';
        break;
      }
    }
  } finally {
    progress.stop();
    loader.close();
  }

  const atChance = stopReason === 'interrupted' ? null : chanceWarning(history.find((h) => h.epoch === early.bestEpoch), chanceP1);
  if (atChance) warn(atChance);
  const result: TrainResult = {
    runDir,
    epochs: epoch,
    steps: step,
    bestEpoch: early.bestEpoch,
    bestValidationMapAtR: early.best,
    stopReason,
    history,
    ccpProjections: controller ? [...controller.history] : [],
    wallSeconds: elapsed(),
    execution,
    warnings,
  };
  if (stopReason === 'interrupted') return result;

  // Best weights (θ and proxies together), then the test split.
  if (best) restore(best);
  saveModule(join(runDir, 'model.safetensors'), model, { config: JSON.stringify(cfg), epoch: String(early.bestEpoch) });
  // The best weights' proxies (CCP), for the report's embedding map.
  if (controller) tidy(() => saveSafetensors(join(runDir, PROXIES_FILE), { proxies: controller.proxies.proxies.detach(), labels: controller.proxies.labels }));
  const testImages = { query: evalImages(data.test.query), gallery: data.test.gallery ? evalImages(data.test.gallery) : undefined };
  const embedTest = (images: ImageLoader, what: string) =>
    withProgress(`embedding ${what}`, images.dataset.size, 'images', !options.quiet, (update) => embedItems(model, images, { batchSize: t.evalBatchSize, onProgress: update }));
  const q = await embedTest(testImages.query, data.test.gallery ? 'test queries' : 'test split');
  const g = testImages.gallery ? await embedTest(testImages.gallery, 'test gallery') : undefined;
  result.test = evaluateEmbeddings(q, g, { ...cfg.evaluation, seed: cfg.seed });
  if (options.keepTestEmbeddings) result.testEmbeddings = { query: q, gallery: g };
  for (const [split, images] of [['training', loader.images], ['validation', valImages], ['test', testImages.query], ['test gallery', testImages.gallery]] as const) {
    for (const i of images?.bad ?? []) warn(`skipped an image of the ${split} split that could not be decoded: ${images!.dataset.where(i)}`);
  }
  const summary = { ...result, history: undefined, testEmbeddings: undefined };
  writeFileAtomic(join(runDir, 'final-metrics.json'), JSON.stringify(summary, null, 2) + '\n');
  log.write({ kind: 'test', epoch: early.bestEpoch, test: result.test });
  for (const v of best?.values() ?? []) v.dispose();
  if (options.report ?? true) {
    try {
      result.reportPath = await writeRunReport(runDir, { data, test: { query: q, gallery: g }, verbose: !options.quiet });
    } catch (e) {
      process.stderr.write(`warning: the run report of ${runDir} could not be written: ${(e as Error).message}\n`);
    }
  }
  return result;
}
