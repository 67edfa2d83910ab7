// The data-parallel equivalence case: float64 features of 6 classes, a 2-layer tanh MLP without BatchNorm
// (same seeded weights on every rank), and the losses under test, all float64.
import { tensor, type Tensor } from '../../src/index.js';
import type { MetricLoss } from '../../src/losses/index.js';
import { createLoss } from '../../src/miners/index.js';
import { ccp } from '../../src/ccp/index.js';
import { seededRandom } from '../../src/engine/testing/index.js';

export const CLASSES = 6;
export const PER_CLASS = 8;
export const IN = 5;
export const HIDDEN = 8;
export const DIM = 4;
export const LABELS = Array.from({ length: CLASSES * PER_CLASS }, (_, i) => i % CLASSES);
export const EQUIVALENCE_LOSSES = [
  'contrastive',
  'multi_similarity',
  'triplet',
  'ccp/contrastive',
  'ccp/multi_similarity',
  'ccp/triplet',
  'xbm/multi_similarity',
  'xbm/contrastive',
  'proxy_anchor',
] as const;
/**
 * XBM over C2 with the code's m+ = 0. Its memory term pairs each batch row with its own detached copy in the
 * memory: the exact distance is 0, but the Gram formula |a|^2 + |b|^2 - 2ab rounds to 0 or to a few ulps, so
 * the term relu(d - m+) is active or not (it changes the mean's count, and its gradient (a - b)/d is rounding
 * noise over rounding noise) depending on the last bit of the embeddings. Summing the gradient in two halves
 * (2 ranks) instead of one (1 process) changes that last bit, so no data-parallel run can follow a single
 * process here; what holds is that every rank's memory is the same all-gathered rows, bit for bit.
 */
export const XBM_SELF_PAIR_CASE = 'xbm/contrastive@m0';

/** Row i: its class's centre plus noise. */
export function features(): Float64Array {
  const rnd = seededRandom(5);
  const centres = Array.from({ length: CLASSES * IN }, () => 2 * rnd() - 1);
  return Float64Array.from({ length: LABELS.length * IN }, (_, k) => centres[LABELS[Math.floor(k / IN)]! * IN + (k % IN)]! + 0.3 * (rnd() - 0.5));
}

export function mlpParams(): Tensor[] {
  const rnd = seededRandom(9);
  const init = (shape: number[], scale: number) =>
    tensor(
      Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * (2 * rnd() - 1)),
      shape,
      { dtype: 'float64' },
    ).requireGrad();
  return [init([HIDDEN, IN], 0.6), init([HIDDEN], 0.1), init([DIM, HIDDEN], 0.5), init([DIM], 0.1)];
}

export function mlpForward(p: Tensor[], x: Tensor): Tensor {
  return x.matmul(p[0]!.t()).add(p[1]!).tanh().matmul(p[2]!.t()).add(p[3]!);
}

export function equivalenceLoss(name: string): MetricLoss {
  // ccp/contrastive: m+ > 0 for the reason XBM_SELF_PAIR_CASE gives. K-center places proxies on pool
  // embeddings, and the step after a projection embeds the same samples with the same weights, so a batch row
  // meets its own proxy at d = 0 up to rounding (seen under libtorch 2.14: 1.05e-8 in one process, 0 on 2
  // ranks, moving the proxy term by 0.006 through the count of active pairs).
  if (name.startsWith('ccp/'))
    return ccp(createLoss(name.slice(4), name === 'ccp/contrastive' ? { posMargin: 0.05 } : {}), {
      numClasses: CLASSES,
      dim: DIM,
      dtype: 'float64',
      proxiesPerClass: 2,
      poolSize: 2,
      patience: 1,
      lambda: 0.05,
    });
  if (name === XBM_SELF_PAIR_CASE) return createLoss('xbm/contrastive', { xbm: { memoryBatches: 2, startStep: 2 } });
  // m+ > 0: a self pair (d = 0 up to rounding) is never active, so the run is well conditioned.
  if (name === 'xbm/contrastive') return createLoss(name, { posMargin: 0.05, xbm: { memoryBatches: 2, startStep: 2 } });
  if (name.startsWith('xbm/')) return createLoss(name, { xbm: { memoryBatches: 2, startStep: 2 } });
  if (name === 'proxy_anchor') return createLoss(name, { numClasses: CLASSES, embeddingDim: DIM, dtype: 'float64' });
  return createLoss(name);
}
