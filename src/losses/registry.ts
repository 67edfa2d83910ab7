// The losses by name: the one list of loss names (spec §7, configs and the CLI) and their constructors with
// presets. `createLoss` (src/miners/loss-registry.ts) composes these with the `xbm/` wrapper and miners; it sits
// in the miners layer because it builds MinedLoss. `ccp/<loss>` is built by src/ccp.
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

/** True for a name of the list (a base loss, no wrapper prefix). */
export function isLossName(name: string): name is LossName {
  return (LOSS_NAMES as readonly string[]).includes(name);
}

/** A base loss by name, its preset's values overridden by `options`, e.g. constructLoss('contrastive', { preset: 'cub' }). */
export function constructLoss(name: string, options: Record<string, unknown> & { preset?: PresetName } = {}): MetricLoss {
  if (!isLossName(name)) throw new Error(`createLoss: unknown loss '${name}'; known: ${LOSS_NAMES.join(', ')} (and xbm/<pair loss>)`);
  const { preset, ...rest } = options;
  const table = (lossPresets as Record<string, Record<string, object> | undefined>)[name];
  if (preset && !table) throw new Error(`${name}: no presets (its defaults are PML's)`);
  const presetValues = preset ? (getPreset(table!, name, preset) as Record<string, unknown>) : {};
  return construct(name, { ...presetValues, ...rest });
}
