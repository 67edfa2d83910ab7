// Summaries of the sweep's records: per cell (regime or ablation variant × method) the seeds done, test MAP@R mean
// and std, projections made, steps run and why the runs stopped; then CCP − base per loss and variant − C2-CCP.
import type { RunRecord } from './study.js';
import type { SweepJob } from './regime-jobs.js';

export interface CellSummary {
  /** Seeds planned / done. */
  planned: number;
  done: number;
  seeds: number[];
  /** Test MAP@R in % (mean, std with n − 1; std null below 2 seeds); null when no seed is done. */
  mapAtR: number | null;
  std: number | null;
  precisionAt1: number | null;
  projections: number | null;
  steps: number | null;
  /** Stop reasons with counts, e.g. { 'early-stopping': 2, 'max-epochs': 1 }. */
  stopReasons: Record<string, number>;
  bestStep: number | null;
  /** What the validation MAP@R did after the epochs that ended a problem, against after the other epochs. */
  projectionEffect: ProjectionEffect | null;
  /** Set when a job of the cell cannot run in this checkout. */
  blocked?: string;
  runs: { seed: number; mapAtR: number; steps: number; projections: number; stopReason: string; wallSeconds: number; imported: boolean }[];
}

/**
 * Change of validation MAP@R (points) over the next PROJECTION_WINDOW validations, after an epoch that ended a
 * problem (a projection) and after every other epoch, pooled over the cell's runs. The problem ends on a plateau,
 * so part of the rise after it is regression to the mean: the ablation's projections-off variant (same trigger,
 * proxies not re-placed) is the control.
 */
export interface ProjectionEffect {
  window: number;
  after: { n: number; mean: number };
  elsewhere: { n: number; mean: number } | null;
}

export const PROJECTION_WINDOW = 2;

export function projectionEffect(records: RunRecord[], window = PROJECTION_WINDOW): ProjectionEffect | null {
  const after: number[] = [];
  const elsewhere: number[] = [];
  for (const r of records) {
    const c = r.curve;
    for (let i = 0; i + window < c.length; i++) (c[i]!.projected ? after : elsewhere).push(100 * (c[i + window]!.valMapAtR - c[i]!.valMapAtR));
  }
  if (!after.length) return null;
  return { window, after: { n: after.length, mean: mean(after) }, elsewhere: elsewhere.length ? { n: elsewhere.length, mean: mean(elsewhere) } : null };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function std(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** One cell from its jobs and their records (null = not run yet). */
export function summarizeCell(jobs: SweepJob[], records: (RunRecord | null)[]): CellSummary {
  const done = records.map((r, i) => ({ r, job: jobs[i]! })).filter((x): x is { r: RunRecord; job: SweepJob } => x.r !== null);
  const m = (f: (r: RunRecord) => number) => (done.length ? mean(done.map((x) => f(x.r))) : null);
  const stopReasons: Record<string, number> = {};
  for (const { r } of done) stopReasons[r.stopReason] = (stopReasons[r.stopReason] ?? 0) + 1;
  const blocked = jobs.find((j) => j.blocked)?.blocked;
  return {
    planned: jobs.length,
    done: done.length,
    seeds: done.map((x) => x.job.seed),
    mapAtR: m((r) => 100 * r.final.mapAtR),
    std: std(done.map((x) => 100 * x.r.final.mapAtR)),
    precisionAt1: m((r) => 100 * r.final.precisionAt1),
    projections: m((r) => r.projections.length),
    steps: m((r) => r.steps),
    bestStep: m((r) => r.curve.find((p) => p.epoch === r.bestEpoch)?.step ?? NaN),
    stopReasons,
    projectionEffect: projectionEffect(done.map((x) => x.r)),
    ...(blocked ? { blocked } : {}),
    runs: done.map(({ r, job }) => ({
      seed: job.seed,
      mapAtR: 100 * r.final.mapAtR,
      steps: r.steps,
      projections: r.projections.length,
      stopReason: r.stopReason,
      wallSeconds: r.wallSeconds,
      imported: 'importedFrom' in r,
    })),
  };
}

export interface Delta {
  /** Difference of the means in points; null unless both cells have a seed. */
  points: number | null;
  /** Mean of the per-seed differences over the seeds both cells have, with their std (paired by seed). */
  paired: { n: number; mean: number; std: number | null } | null;
}

export function delta(a: CellSummary, base: CellSummary): Delta {
  const points = a.mapAtR !== null && base.mapAtR !== null ? a.mapAtR - base.mapAtR : null;
  const diffs = a.runs.flatMap((r) => {
    const b = base.runs.find((x) => x.seed === r.seed);
    return b ? [r.mapAtR - b.mapAtR] : [];
  });
  return { points, paired: diffs.length ? { n: diffs.length, mean: mean(diffs), std: std(diffs) } : null };
}

/** Groups jobs by a key, keeping the first-seen order. */
export function groupJobs(jobs: SweepJob[], key: (j: SweepJob) => string): Map<string, SweepJob[]> {
  const out = new Map<string, SweepJob[]>();
  for (const j of jobs) {
    const k = key(j);
    out.set(k, [...(out.get(k) ?? []), j]);
  }
  return out;
}
