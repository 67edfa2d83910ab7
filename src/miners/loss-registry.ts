// createLoss: a loss by its config / CLI name, composed with what wraps it: a preset, the `xbm/` memory
// prefix and a miner. It lives in the miners layer, above the losses, because a mined loss is a MinedLoss;
// the names and base constructors are the losses' own (src/losses/registry.ts).
import type { MetricLoss } from '../losses/types.js';
import { constructLoss } from '../losses/registry.js';
import { XBM, type XBMOptions } from '../losses/xbm.js';
import type { PresetName } from '../losses/presets.js';
import { createMiner, type MinerSpec } from './registry.js';
import { MinedLoss } from './mined_loss.js';

/** Options for createLoss: the loss's own options, an optional preset (overridden by the options), and
 *  for `xbm/<loss>` the XBM options (their preset defaults to the same preset name). */
export type CreateLossOptions = Record<string, unknown> & { preset?: PresetName; xbm?: XBMOptions; miner?: MinerSpec };

/**
 * Builds a loss by CLI name, e.g. createLoss('contrastive', { preset: 'cub' }),
 * createLoss('proxy_anchor', { numClasses: 100, embeddingDim: 128 }),
 * createLoss('xbm/contrastive', { preset: 'cub' }) (XBM memory of 3 batches),
 * createLoss('triplet', { miner: 'batch_hard' }) (a pair loss fed by a miner).
 */
export function createLoss(name: string, options: CreateLossOptions = {}): MetricLoss {
  const { miner, ...others } = options;
  if (miner !== undefined) {
    const loss = createLoss(name.startsWith('xbm/') ? name.slice(4) : name, { ...others, xbm: undefined });
    const mined = new MinedLoss(loss, createMiner(miner));
    if (!name.startsWith('xbm/')) return mined;
    return wrapXbm(name, mined, others);
  }
  const { preset, xbm: _wrapperOnly, ...rest } = others;
  if (name.startsWith('xbm/')) {
    const base = createLoss(name.slice(4), { ...rest, ...(preset ? { preset } : {}) });
    return wrapXbm(name, base, others);
  }
  if (name.startsWith('ccp/')) {
    throw new Error(`createLoss('${name}'): CCP losses are built by the ccp module (src/ccp), which wraps the pair loss '${name.slice(4)}'`);
  }
  return constructLoss(name, { ...rest, ...(preset ? { preset } : {}) });
}

function wrapXbm(name: string, base: MetricLoss, options: CreateLossOptions): MetricLoss {
  const { preset, xbm } = options;
  const xo = xbm ?? {};
  if (preset && xo.memoryBatches === undefined && xo.memorySize === undefined) return XBM.preset(preset, base, xo);
  if (xo.memoryBatches === undefined && xo.memorySize === undefined) {
    throw new Error(`createLoss('${name}'): give options.xbm.memoryBatches or memorySize, or a preset`);
  }
  return new XBM(base, xo);
}
