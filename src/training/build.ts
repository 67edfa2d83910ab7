// Builds the model, the loss (with its ccp/ or xbm/ wrapper) and the optimiser a run config describes.
import { resolvePrecision, type Tensor } from '../engine/index.js';
import { Adam, AdamW, SGD, type Optimizer, type ParamGroupInput } from '../engine/optim/index.js';
import { createModel, modelInfo, loadPretrained, batchNormParameterNames, type EmbeddingNet } from '../models/index.js';
import type { MetricLoss } from '../losses/index.js';
import { createLoss } from '../miners/index.js';
import { ccp, type CcpLoss } from '../ccp/index.js';
import { parseLossName, pairLossNames, type RunConfig } from './config.js';
import { checkModelOptions, checkLossOptions } from './option-keys.js';

/** A loss whose tensors (proxies, XBM memory) go into checkpoints. */
export interface StatefulLoss extends MetricLoss {
  stateDict(): Record<string, Tensor>;
  loadStateDict(state: Record<string, Tensor>): void;
}

export function isStatefulLoss(loss: MetricLoss): loss is StatefulLoss {
  return typeof (loss as Partial<StatefulLoss>).stateDict === 'function' && typeof (loss as Partial<StatefulLoss>).loadStateDict === 'function';
}

/** The model on `device` (pretrained weights are read on the CPU and moved with the rest). */
export function buildModel(cfg: RunConfig, inputShape: [number, number, number], device = 'cpu'): EmbeddingNet {
  const m = cfg.model;
  checkModelOptions(m.name, m.options);
  const common = { embeddingDim: m.embeddingDim, freezeBatchNorm: m.freezeBatchNorm, pooling: m.pooling, ...m.options };
  const model =
    m.name === 'mlp'
      ? createModel('mlp', {
          inputDim: inputShape[0] * inputShape[1] * inputShape[2],
          embeddingDim: m.embeddingDim,
          freezeBatchNorm: m.freezeBatchNorm,
          ...m.options,
        })
      : createModel(m.name, { inChannels: inputShape[0], ...common });
  if (m.pretrained) {
    loadPretrained(model, m.pretrained, { mapping: modelInfo(m.name).pretrainedMapping, log: (line) => process.stderr.write(`pretrained: ${line}\n`) });
  }
  // Before the execution levers: 'auto' precision depends on the device.
  model.to(device);
  return configureExecution(model, m);
}

/**
 * Applies the config's execution levers to a built model: channels_last for conv models ('auto'), BatchNorm
 * folding, and the precision ('auto' resolved for this CPU). Layout and precision change speed, not what the weights mean, so
 * a run's weights load the same either way.
 */
export function configureExecution(model: EmbeddingNet, m: Pick<RunConfig['model'], 'name' | 'precision' | 'memoryFormat' | 'foldBatchNorm'>): EmbeddingNet {
  const channelsLast = m.memoryFormat === 'channels_last' || (m.memoryFormat === 'auto' && m.name !== 'mlp');
  model.useChannelsLast(channelsLast);
  model.setBatchNormFolding(m.foldBatchNorm);
  let precision: ReturnType<typeof resolvePrecision>;
  try {
    precision = resolvePrecision(m.precision, model.device);
  } catch (e) {
    throw new Error(`model.precision: ${(e as Error).message}`);
  }
  model.setPrecision(precision);
  return model;
}

/** The loss, its learnable tensors (proxies) made on `device`. */
export function buildLoss(cfg: RunConfig, numClasses: number, device = 'cpu'): MetricLoss {
  const { wrapper, base } = parseLossName(cfg.loss.name);
  checkLossOptions(base, cfg.loss.options);
  const preset = cfg.loss.preset;
  const dim = cfg.model.embeddingDim;
  const proxyBased = !pairLossNames.includes(base);
  const options: Record<string, unknown> = {
    ...(preset ? { preset } : {}),
    ...(proxyBased ? { numClasses, embeddingDim: dim, device } : {}),
    ...cfg.loss.options,
  };
  if (cfg.loss.miner !== undefined) options.miner = cfg.loss.miner;
  if (wrapper === 'xbm') {
    return createLoss(`xbm/${base}`, { ...options, xbm: { memoryBatches: cfg.xbm.memoryBatches, startStep: cfg.xbm.startStep, weight: cfg.xbm.weight } });
  }
  const baseLoss = createLoss(base, options);
  if (wrapper === 'ccp') {
    const { preset: _applied, ...options } = cfg.ccp; // the config section holds the resolved values
    return ccp(baseLoss, {
      numClasses,
      dim,
      device,
      ...options,
      minDelta: cfg.training.minDelta,
    }) satisfies CcpLoss;
  }
  return baseLoss;
}

export interface OptimizerSetup {
  optimizer: Optimizer;
  /** Parameters that receive the coupled L2 weight decay before clipping (spec 2.2: non-BN weights and proxies). */
  decayParams: Tensor[];
  /** Every optimised tensor (clipping runs over all of them). */
  allParams: Tensor[];
  /** Network weights θ with names (the CCP regulariser's domain). */
  networkParams: [string, Tensor][];
  /** Weight decay the trainer adds to gradients itself (0 when the optimiser applies it, e.g. AdamW). */
  gradientWeightDecay: number;
}

export function buildOptimizer(cfg: RunConfig, model: EmbeddingNet, loss: MetricLoss): OptimizerSetup {
  const o = cfg.optimizer;
  const networkParams = model.namedParameters().filter(([, p]) => p.requiresGrad);
  const bnNames = batchNormParameterNames(model);
  const lossParams = loss.parameters();
  const multiplier = o.proxyLrMultiplier ?? loss.parameterLrMultiplier ?? 1;
  // Adam and SGD: coupled L2 added to the gradient by the trainer before clipping (the reference code's
  // order); AdamW: decoupled, inside the optimiser.
  const decoupled = o.name === 'adamw';
  const groups: ParamGroupInput[] = [{ params: networkParams.map(([, p]) => p), name: 'network' }];
  if (lossParams.length) groups.push({ params: lossParams, lrMultiplier: multiplier, name: 'loss' });
  const wdInOptimizer = decoupled ? o.weightDecay : 0;
  const optimizer =
    o.name === 'sgd'
      ? new SGD(groups, { lr: o.lr, momentum: o.momentum, weightDecay: 0 })
      : new (decoupled ? AdamW : Adam)(groups, { lr: o.lr, betas: [o.beta1, o.beta2], eps: o.eps, weightDecay: wdInOptimizer });
  return {
    optimizer,
    decayParams: [...networkParams.filter(([n]) => !bnNames.has(n)).map(([, p]) => p), ...lossParams],
    allParams: [...networkParams.map(([, p]) => p), ...lossParams],
    networkParams,
    gradientWeightDecay: decoupled ? 0 : o.weightDecay,
  };
}
