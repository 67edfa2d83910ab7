// The gradient-share bench's summary: per variant and training phase (the first CCP problem, where λ = 0, and the
// later ones), the median share of each term's gradient norm on the network and on the proxies, how often the
// clipping by total norm was active, and the cosine between the batch and proxy terms' gradients.
import type { GradientShareSample, TermNorms } from '../../src/training/hooks/gradient-share.js';
import type { ActivePairsSample } from './gradient-share-pairs.js';
import { formatTable, median } from '../common/index.js';

export const TERMS = ['batch', 'proxy', 'regularizer', 'weightDecay'] as const;
type Term = (typeof TERMS)[number];

export interface VariantRun {
  id: string;
  label: string;
  loss: string;
  lossOptions: Record<string, unknown>;
  lr: number;
  steps: number;
  projections: number;
  testMapAtR: number;
  bestValMapAtR: number;
  samples: GradientShareSample[];
  /** C1 variants: active pair counts per row on the measured steps (empty for other losses). */
  activePairs: ActivePairsSample[];
}

export interface PhaseSummary {
  variant: string;
  phase: string;
  samples: number;
  /** Median share (norm / sum of the four norms) per term, on θ and on P. */
  network: Record<Term, number>;
  proxies: Record<Term, number>;
  /** Median norms per term on θ (the raw magnitudes behind the shares). */
  networkNorms: Record<Term, number>;
  cosineBatchProxy: number;
  medianNormBeforeClip: number;
  /** Share of the measured steps whose total norm exceeded the clip norm. */
  clippedFraction: number;
}

const shares = (n: TermNorms): Record<Term, number> => {
  const total = TERMS.reduce((a, t) => a + n[t], 0);
  return Object.fromEntries(TERMS.map((t) => [t, total > 0 ? n[t] / total : NaN])) as Record<Term, number>;
};
const medianOf = (rows: Record<Term, number>[]): Record<Term, number> =>
  Object.fromEntries(TERMS.map((t) => [t, median(rows.map((r) => r[t]).filter(Number.isFinite))])) as Record<Term, number>;

/** The phases of a run: all steps, the first problem (t = 0) and the later problems (t ≥ 1, when any). */
export function phases(samples: readonly GradientShareSample[]): [string, GradientShareSample[]][] {
  const later = samples.filter((s) => s.t >= 1);
  return [
    ['all', [...samples]],
    ['problem 0 (λ = 0)', samples.filter((s) => s.t === 0)],
    ...(later.length ? [['problems ≥ 1 (λ > 0)', later] as [string, GradientShareSample[]]] : []),
  ];
}

export function summarizeVariant(v: VariantRun, clipNorm: number | null): PhaseSummary[] {
  return phases(v.samples)
    .filter(([, s]) => s.length > 0)
    .map(([phase, s]) => ({
      variant: v.id,
      phase,
      samples: s.length,
      network: medianOf(s.map((x) => shares(x.network))),
      proxies: medianOf(s.map((x) => shares(x.proxies))),
      networkNorms: medianOf(s.map((x) => x.network)),
      cosineBatchProxy: median(s.map((x) => x.cosineBatchProxy).filter(Number.isFinite)),
      medianNormBeforeClip: median(s.map((x) => x.normBeforeClip)),
      clippedFraction: clipNorm === null ? 0 : s.filter((x) => x.normBeforeClip > clipNorm).length / s.length,
    }));
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : '-');

/** The terminal / Markdown table: one row per variant and phase. */
export function shareTable(rows: readonly PhaseSummary[]): { header: string[]; cells: string[][] } {
  const header = [
    'variant',
    'phase',
    'n',
    'θ: batch %',
    'θ: proxy %',
    'θ: reg. %',
    'θ: wd %',
    'P: proxy %',
    'P: wd %',
    '‖g_batch‖ θ',
    '‖g_proxy‖ θ',
    'cos(batch, proxy)',
    '‖g‖ before clip',
    'clipped %',
  ];
  const cells = rows.map((r) => [
    r.variant,
    r.phase,
    String(r.samples),
    pct(r.network.batch),
    pct(r.network.proxy),
    pct(r.network.regularizer),
    pct(r.network.weightDecay),
    pct(r.proxies.proxy),
    pct(r.proxies.weightDecay),
    num(r.networkNorms.batch),
    num(r.networkNorms.proxy),
    num(r.cosineBatchProxy),
    num(r.medianNormBeforeClip),
    pct(r.clippedFraction),
  ]);
  return { header, cells };
}

export function terminalTable(rows: readonly PhaseSummary[]): string {
  const t = shareTable(rows);
  return formatTable(t.header, t.cells);
}

export function markdownShareTable(rows: readonly PhaseSummary[]): string {
  return markdownTable(shareTable(rows));
}

export function markdownTable(t: { header: string[]; cells: string[][] }): string {
  return [`| ${t.header.join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.cells.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}

/** Active C1 pairs per row, median per variant and phase (phases from the gradient samples of the same steps). */
export function pairsTable(runs: readonly VariantRun[]): { header: string[]; cells: string[][] } {
  const header = [
    'variant',
    'phase',
    'n',
    'proxy term: active positives / row',
    'active negatives / row',
    'batch term: active positives / row',
    'active negatives / row',
  ];
  const cells: string[][] = [];
  for (const r of runs) {
    if (!r.activePairs.length) continue;
    const tOf = new Map(r.samples.map((s) => [s.step, s.t]));
    for (const [phase, samples] of phases(r.samples)) {
      const steps = new Set(samples.map((s) => s.step));
      const p = r.activePairs.filter((x) => steps.has(x.step) && tOf.has(x.step));
      if (!p.length) continue;
      const med = (f: (x: ActivePairsSample) => number) => num(median(p.map(f)));
      cells.push([
        r.id,
        phase,
        String(p.length),
        med((x) => x.proxyPositives),
        med((x) => x.proxyNegatives),
        med((x) => x.batchPositives),
        med((x) => x.batchNegatives),
      ]);
    }
  }
  return { header, cells };
}
