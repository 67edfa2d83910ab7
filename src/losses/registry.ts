// The loss registry: CLI names (spec §7) -> constructors, with presets and the `xbm/` wrapper prefix.
// `ccp/<loss>` is built by src/ccp (it wraps these pair losses with a ReferenceSet of proxies).
import type { MetricLoss } from './types.js';
import { ContrastiveLoss, type ContrastiveOptions } from './contrastive.js';
import { OriginalContrastiveLoss, type OriginalContrastiveOptions } from './original_contrastive.js';
import { TripletLoss, type TripletOptions } from './triplet.js';
import { MultiSimilarityLoss, type MultiSimilarityOptions } from './multi_similarity.js';
import { ProxyAnchorLoss, type ProxyAnchorOptions } from './proxy_anchor.js';
import { ProxyNCALoss, type ProxyNCAOptions } from './proxy_nca.js';
import { SoftTripleLoss, type SoftTripleOptions } from './soft_triple.js';
import { NormalizedSoftmaxLoss, type NormalizedSoftmaxOptions } from './normalized_softmax.js';
import { ArcFaceLoss, SubCenterArcFaceLoss, type ArcFaceOptions } from './arcface.js';
import { CosFaceLoss, type CosFaceOptions } from './cosface.js';
import { NTXentLoss, type NTXentOptions } from './ntxent.js';
import { SupConLoss, type SupConOptions } from './supcon.js';
import { CircleLoss, type CircleOptions } from './circle.js';
import { createMiner, type MinerSpec } from '../miners/registry.js';
import { MinedLoss } from '../miners/mined_loss.js';
import { XBM, type XBMOptions } from './xbm.js';
import { getPreset, lossPresets, type PresetName } from './presets.js';

export const LOSS_NAMES = [
  'contrastive',
  'original_contrastive',
  'triplet',
  'multi_similarity',
  'proxy_anchor',
  'proxy_nca',
  'soft_triple',
  'normalized_softmax',
  'arcface',
  'cosface',
  'subcenter_arcface',
  'ntxent',
  'supcon',
  'circle',
] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** Pair-based losses: they accept a ReferenceSet (CCP proxies, XBM memory). */
export const PAIR_LOSS_NAMES: readonly LossName[] = ['contrastive', 'original_contrastive', 'triplet', 'multi_similarity', 'ntxent', 'supcon', 'circle'];

export interface LossOptionsByName {
  contrastive: ContrastiveOptions;
  original_contrastive: OriginalContrastiveOptions;
  triplet: TripletOptions;
  multi_similarity: MultiSimilarityOptions;
  proxy_anchor: ProxyAnchorOptions;
  proxy_nca: ProxyNCAOptions;
  soft_triple: SoftTripleOptions;
  normalized_softmax: NormalizedSoftmaxOptions;
  arcface: ArcFaceOptions;
  cosface: CosFaceOptions;
  subcenter_arcface: ArcFaceOptions;
  ntxent: NTXentOptions;
  supcon: SupConOptions;
  circle: CircleOptions;
}

/** Options for createLoss: the loss's own options, an optional preset (overridden by the options), and
 *  for `xbm/<loss>` the XBM options (their preset defaults to the same preset name). */
export type CreateLossOptions = Record<string, unknown> & { preset?: PresetName; xbm?: XBMOptions; miner?: MinerSpec };

function construct(name: LossName, o: Record<string, unknown>): MetricLoss {
  switch (name) {
    case 'contrastive':
      return new ContrastiveLoss(o as ContrastiveOptions);
    case 'original_contrastive':
      return new OriginalContrastiveLoss(o as OriginalContrastiveOptions);
    case 'triplet':
      return new TripletLoss(o as TripletOptions);
    case 'multi_similarity':
      return new MultiSimilarityLoss(o as MultiSimilarityOptions);
    case 'proxy_anchor':
      return new ProxyAnchorLoss(o as unknown as ProxyAnchorOptions);
    case 'proxy_nca':
      return new ProxyNCALoss(o as unknown as ProxyNCAOptions);
    case 'soft_triple':
      return new SoftTripleLoss(o as unknown as SoftTripleOptions);
    case 'normalized_softmax':
      return new NormalizedSoftmaxLoss(o as unknown as NormalizedSoftmaxOptions);
    case 'arcface':
      return new ArcFaceLoss(o as unknown as ArcFaceOptions);
    case 'cosface':
      return new CosFaceLoss(o as unknown as CosFaceOptions);
    case 'subcenter_arcface':
      return new SubCenterArcFaceLoss(o as unknown as ArcFaceOptions);
    case 'ntxent':
      return new NTXentLoss(o as NTXentOptions);
    case 'supcon':
      return new SupConLoss(o as SupConOptions);
    case 'circle':
      return new CircleLoss(o as CircleOptions);
  }
}

/**
 * Builds a loss by CLI name, e.g. createLoss('contrastive', { preset: 'cub' }),
 * createLoss('proxy_anchor', { numClasses: 100, embeddingDim: 128 }),
 * createLoss('xbm/contrastive', { preset: 'cub' }) (XBM memory of 3 batches),
 * createLoss('triplet', { miner: 'batch_hard' }) (a pair loss fed by a miner; see src/miners).
 */
export function createLoss(name: string, options: CreateLossOptions = {}): MetricLoss {
  const { miner, ...others } = options;
  if (miner !== undefined) {
    const loss = createLoss(name.startsWith('xbm/') ? name.slice(4) : name, { ...others, xbm: undefined });
    const mined = new MinedLoss(loss, createMiner(miner));
    if (!name.startsWith('xbm/')) return mined;
    return wrapXbm(name, mined, others);
  }
  const { preset, xbm, ...rest } = others;
  if (name.startsWith('xbm/')) {
    const baseName = name.slice(4);
    const base = createLoss(baseName, { ...rest, ...(preset ? { preset } : {}) });
    return wrapXbm(name, base, others);
  }
  if (name.startsWith('ccp/')) {
    throw new Error(`createLoss('${name}'): CCP losses are built by the ccp module (src/ccp), which wraps the pair loss '${name.slice(4)}'`);
  }
  if (!(LOSS_NAMES as readonly string[]).includes(name)) {
    throw new Error(`createLoss: unknown loss '${name}'; known: ${LOSS_NAMES.join(', ')} (and xbm/<pair loss>)`);
  }
  const n = name as LossName;
  const table = (lossPresets as Record<string, Record<string, object> | undefined>)[n];
  if (preset && !table) throw new Error(`${n}: no presets (its defaults are PML's)`);
  const presetValues = preset ? (getPreset(table!, n, preset) as Record<string, unknown>) : {};
  return construct(n, { ...presetValues, ...rest });
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
