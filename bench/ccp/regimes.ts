// The regimes of the "when does CCP help?" sweep (issue 13) and the ablation variants: each regime is a set of
// study settings (backbone, LR, budget, early stopping, CCP patience) under which C1, C2, MS and Triplet run with
// and without CCP. (a) and (a0) are the existing Omniglot studies' settings (their records are imported, see
// regime-import.ts); (b) is the paper's optimisation regime scaled to this model; (c) is a point between.
import { fullSettings } from './main.js';
import { selectMethods } from './methods.js';
import type { StudySettings } from './study.js';

export interface Regime {
  id: string;
  title: string;
  /** One line: what differs from the other regimes. */
  what: string;
  settings: StudySettings;
  /** LR of each method (no LR search inside the sweep). */
  lrs: Record<string, number>;
  /** The results.json whose test runs this regime's records are imported from (same settings), if any. */
  importFrom?: string;
}

/** The four pair losses with and without CCP. */
export const SWEEP_METHOD_IDS = ['c1', 'c1-ccp', 'c2', 'c2-ccp', 'ms', 'ms-ccp', 'triplet', 'triplet-ccp'] as const;

function withLr(ids: readonly string[], lr: number): Record<string, number> {
  return Object.fromEntries(ids.map((id) => [id, lr]));
}

/** The paper's protocol on this model: validation every 25 steps (the code's epoch), CCP patience 3, global patience 60. */
function paperProtocol(capSteps: number): Pick<StudySettings, 'budget' | 'stepsPerEpoch' | 'earlyStopPatience' | 'ccp'> {
  return {
    budget: { kind: 'steps', value: capSteps },
    stepsPerEpoch: 25,
    earlyStopPatience: 60,
    ccp: { ...fullSettings().ccp, patience: 3 },
  };
}

/** The regimes, in the order of the report. */
export function regimes(): Regime[] {
  const methods = selectMethods(SWEEP_METHOD_IDS.join(','));
  const base: StudySettings = { ...fullSettings(), methods, mode: 'regimes', lrGrid: [1e-3] };
  return [
    {
      id: 'a',
      title: '(a) today: MNIST-pretrained, val-tuned LR, 3,000 steps, no global early stopping',
      what: 'the main Omniglot study (results/ccp/results.md; its test runs imported, not retrained): per-method LR picked on validation (3e-4..3e-3; CCP and base may differ), 3,000 steps, CCP patience 2 × 50 steps',
      settings: { ...base },
      lrs: { c1: 3e-3, 'c1-ccp': 1e-3, c2: 1e-3, 'c2-ccp': 1e-3, ms: 3e-3, 'ms-ccp': 1e-3, triplet: 3e-3, 'triplet-ccp': 1e-3 },
      importFrom: 'results/ccp/results.json',
    },
    {
      id: 'a0',
      title: '(a0) today from scratch: no pretraining, val-tuned LR, 1,000 steps',
      what: 'the from-scratch study (results/ccp/scratch/results.md; its test runs imported, not retrained): random init, per-method LR picked on validation, 1,000 steps, CCP patience 1 × 50 steps',
      settings: { ...base, pretrained: 'none', budget: { kind: 'steps', value: 1000 }, ccp: { ...base.ccp, patience: 1 } },
      lrs: { c1: 1e-3, 'c1-ccp': 3e-4, c2: 3e-3, 'c2-ccp': 1e-3, ms: 3e-3, 'ms-ccp': 1e-3, triplet: 1e-3, 'triplet-ccp': 1e-3 },
      importFrom: 'results/ccp/scratch/results.json',
    },
    {
      id: 'c',
      title: '(c) between: MNIST-pretrained, LR 1e-4, ≤ 6,000 steps, global early stopping 60 epochs',
      what: 'LR 1e-4 for every method; validation every 25 steps; global early stopping after 60 epochs without a gain (cap 6,000 steps); CCP patience 3 × 25 steps',
      settings: { ...base, ...paperProtocol(6000) },
      lrs: withLr(SWEEP_METHOD_IDS, 1e-4),
    },
    {
      id: 'b',
      title: "(b) the paper's: MNIST-pretrained, LR 1e-5, ≤ 15,000 steps, global early stopping 60 epochs",
      what: "the paper's LR 1e-5 for every method; validation every 25 steps; global early stopping after 60 epochs without a gain (cap 15,000 steps); CCP patience 3 × 25 steps",
      settings: { ...base, ...paperProtocol(15000) },
      lrs: withLr(SWEEP_METHOD_IDS, 1e-5),
    },
  ];
}

export interface AblationVariant {
  id: string;
  label: string;
  /** CCP options changed from the regime's C2-CCP. */
  ccp: Record<string, unknown>;
  /** Other study settings changed (e.g. the proxies' LR multiplier). */
  settings?: Pick<StudySettings, 'ccpProxyLrMultiplier' | 'augment'>;
}

/** The ablation on C2-CCP (the largest CCP gain of regime (a), and a CCP loss from scratch). */
export const ABLATION_VARIANTS: readonly AblationVariant[] = [
  { id: 'batch0', label: 'in-batch term weight 0 (default 0.1)', ccp: { batchWeight: 0 } },
  { id: 'proxy0.3', label: 'sample–proxy term weight 0.3 (default 1)', ccp: { proxyWeight: 0.3 } },
  { id: 'k1b1', label: 'K = 1, b = 1 (default K = 4, b = 7)', ccp: { proxiesPerClass: 1, poolSize: 1 } },
  { id: 'k8b12', label: 'K = 8, b = 12 (the small-data preset)', ccp: { proxiesPerClass: 8, poolSize: 12 } },
  { id: 'lambda0', label: 'λ = 0 (default 2e-4)', ccp: { lambda: 0 } },
  { id: 'no-projection', label: 'projections off (proxies never re-placed)', ccp: { projections: false } },
  // Why projections off collapses: proxies trained at the network's LR (x1) may lag the moving embedding; at x100
  // (the proxy baselines' multiplier) they can follow it.
  {
    id: 'no-projection-lr100',
    label: 'projections off, proxies at 100× LR',
    ccp: { projections: false },
    settings: { ccpProxyLrMultiplier: 100 },
  },
  { id: 'lagged', label: "the reference code's lagged metric", ccp: { laggedMetric: true } },
  // The candidate pool's preprocessing only matters when training augments: this pair trains with augmentation and
  // embeds the pool with the training preprocessing (the reference code) or the test one; compare the two rows.
  { id: 'augment', label: 'training augmentation, pool with training preprocessing', ccp: {}, settings: { augment: true } },
  {
    id: 'augment-pool-test',
    label: 'training augmentation, pool with test preprocessing',
    ccp: { poolPreprocessing: 'test' },
    settings: { augment: true },
  },
];

/** Regimes the ablation runs in: (a) where CCP helps C2, (a0) where it hurts. */
export const ABLATION_REGIMES = ['a', 'a0'] as const;
export const ABLATION_METHOD = 'c2-ccp';

/** What the plan leaves out, and why (printed with the plan and written into regimes.md). */
export const CUT_TO_FIT = [
  'no LR search in (b) and (c): the paper uses LR 1e-5 for every loss; (c) fixes 1e-4',
  "(b) is capped at 15,000 steps (the paper's runs are tens of thousands of steps); the cap is reported where a run hit it",
  "BatchNorm is not frozen in (b)/(c) (the paper freezes BN-Inception's): the study flag --freeze-bn exists, but a fourth regime did not fit",
  'ablation on C2-CCP only, in (a) and (a0); not in (b)/(c) (their CCP effect was not known when the sweep started)',
  'XBM and the proxy baselines are left out (not part of the CCP question)',
];
