// The run config of bench:dist's step comparison (the Python side, bench/python/dist_step.py, builds the same):
// C2 (m+ 0, m- 0.5, N(v)) over the gathered global batch, plain ('contrastive') or wrapped in CCP ('ccp':
// ccp/contrastive, K = 8 proxies per class for C = 100 classes, batch weight 0.1, proxy weight 1.0, and the
// proximal regulariser λ(θ − θ_anchor) with λ = 2e-4 on the network weights), Adam (lr 1e-4, weight decay 1e-4
// added to the gradients of non-BN weights and proxies, clip-norm 10, clip-value 10); SmallCnn [32, 64, 128] or
// BN-Inception (BN frozen), D 128. Also the step cases bench:dist runs (BENCH_CASES).
import type { RunConfigInput } from '../../src/training/config.js';

export const STEP_LOSSES = ['contrastive', 'ccp'] as const;
export type StepLoss = (typeof STEP_LOSSES)[number];

/**
 * The CCP case: C classes (the batch's 8 classes are 8 of them), K proxies per class, λ of the proximal term
 * (applied from the first step, anchor = the initial weights, as after a projection with decay 1).
 */
export const CCP_STEP = { classes: 100, proxiesPerClass: 8, lambda: 2e-4 } as const;

/** Classes of the batch's labels (i mod 8) for the plain loss; the CCP case has C = 100 proxy classes. */
export const BATCH_CLASSES = 8;

/** A loss name of step-rank's and dist_step.py's argv; anything else is refused by name. */
export function parseStepLoss(name: string | undefined): StepLoss {
  if (!(STEP_LOSSES as readonly string[]).includes(name ?? '')) {
    throw new Error(`loss: unknown loss '${name ?? ''}' (expected ${STEP_LOSSES.join(' or ')})`);
  }
  return name as StepLoss;
}

/** Classes the loss is built for: the proxies' C for CCP, the batch's classes otherwise. */
export function stepNumClasses(loss: StepLoss): number {
  return loss === 'ccp' ? CCP_STEP.classes : BATCH_CLASSES;
}

export function stepRunConfig(model: string, image: [number, number, number], loss: StepLoss = 'contrastive'): RunConfigInput {
  const c2 = { posMargin: 0, negMargin: 0.5, embeddingNormalization: 'lipschitz' };
  return {
    dataset: { name: 'omniglot', channels: image[0] as 1 | 3, imageSize: image[1] },
    model:
      model === 'bninception'
        ? { name: 'bninception', embeddingDim: 128, freezeBatchNorm: true, pooling: 'avg' }
        : { name: 'small_cnn', embeddingDim: 128, options: { channels: [32, 64, 128] } },
    loss: { name: loss === 'ccp' ? 'ccp/contrastive' : 'contrastive', options: c2 },
    ...(loss === 'ccp' ? { ccp: { proxiesPerClass: CCP_STEP.proxiesPerClass, lambda: CCP_STEP.lambda, batchWeight: 0.1, proxyWeight: 1.0 } } : {}),
    optimizer: { name: 'adam', lr: 1e-4, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-7, clipNorm: 10, clipValue: 10 },
  };
}

// ---- the step cases of bench:dist (BENCH_CASES)

export const STEP_CASE_NAMES = ['small-c2', 'small-c2ccp', 'large-c2', 'large-c2ccp'] as const;
export type StepCaseName = (typeof STEP_CASE_NAMES)[number];
export const DEFAULT_STEP_CASES = 'small-c2,small-c2ccp,large-c2ccp';

/**
 * BENCH_CASES: a comma-separated list of case names, or 'all'; unset or empty = the default list. Cases run in
 * the order given (duplicates once); an unknown name is refused by name with the list of known ones.
 */
export function parseStepCases(spec: string | undefined): StepCaseName[] {
  const text = spec === undefined || spec.trim() === '' ? DEFAULT_STEP_CASES : spec.trim();
  if (text === 'all') return [...STEP_CASE_NAMES];
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(STEP_CASE_NAMES as readonly string[]).includes(n));
  if (unknown.length) {
    throw new Error(
      `BENCH_CASES: unknown case(s) ${unknown.map((n) => `'${n}'`).join(', ')} (expected 'all' or a comma-separated list of ${STEP_CASE_NAMES.join(', ')})`,
    );
  }
  return [...new Set(names as StepCaseName[])];
}

/** What a case name means: the model ('small_cnn' or 'bninception') and the loss. */
export function stepCaseParts(name: StepCaseName): { model: 'small_cnn' | 'bninception'; loss: StepLoss } {
  const [size, loss] = name.split('-') as ['small' | 'large', 'c2' | 'c2ccp'];
  return { model: size === 'large' ? 'bninception' : 'small_cnn', loss: loss === 'c2ccp' ? 'ccp' : 'contrastive' };
}
