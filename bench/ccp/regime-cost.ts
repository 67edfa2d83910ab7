// Time estimate of sweep jobs, for the plan and for the deadline (--stop-at): a method's seconds per training step
// as measured in the main Omniglot study (results/ccp/results.json: training seconds / steps of its test runs, one
// thread), times the job's step cap, plus validation (more epochs when they are shorter) and a fixed per-run cost
// (setup, test embedding). A running factor (measured / predicted) scales it to this machine's current speed.
import { existsSync, readFileSync } from 'node:fs';
import type { RunRecord } from './study.js';
import type { SweepJob } from './regime-jobs.js';

/** Seconds per step of the main study's runs (3,000 steps, validation every 50), used when its results.json is absent. */
const FALLBACK_STEP_SECONDS: Record<string, number> = {
  c1: 0.0117,
  'c1-ccp': 0.017,
  c2: 0.0123,
  'c2-ccp': 0.0253,
  ms: 0.0147,
  'ms-ccp': 0.036,
  triplet: 0.015,
  'triplet-ccp': 0.0307,
};
/** Share of a 50-step epoch spent validating (1,000 images), and the fixed cost of a run outside training. */
const VALIDATION_SHARE_AT_50 = 0.15;
const RUN_OVERHEAD_SECONDS = 5;

export function stepSeconds(studyJson: string): Record<string, number> {
  if (!existsSync(studyJson)) return { ...FALLBACK_STEP_SECONDS };
  const runs = (JSON.parse(readFileSync(studyJson, 'utf8')) as { runs: RunRecord[] }).runs.filter((r) => r.purpose === 'test');
  const out: Record<string, number> = { ...FALLBACK_STEP_SECONDS };
  for (const id of Object.keys(out)) {
    const mine = runs.filter((r) => r.method === id && r.steps > 0);
    if (mine.length) out[id] = mine.reduce((a, r) => a + r.trainSeconds / r.steps, 0) / mine.length;
  }
  return out;
}

/**
 * Predicted wall seconds of a job at the reference speed, for its step cap (early stopping can only shorten it) or
 * for the steps it ran (`steps`, to compare with the measured time).
 */
export function jobSeconds(job: SweepJob, perStep: Record<string, number>, steps = job.settings.budget.value): number {
  const base = perStep[job.method.id] ?? FALLBACK_STEP_SECONDS['c2-ccp']!;
  const validation = 1 + VALIDATION_SHARE_AT_50 * (50 / job.settings.stepsPerEpoch - 1);
  const proxies = job.variant ? Number(job.variant.ccp.proxiesPerClass ?? 4) / 4 : 1;
  // More proxies cost more in the sample–proxy term; the share of the step it takes is about a third.
  return steps * base * validation * (2 / 3 + proxies / 3) + RUN_OVERHEAD_SECONDS;
}

/** Measured / predicted over the jobs trained in this invocation (1 before any). */
export class SpeedFactor {
  private measured = 0;
  private predicted = 0;

  add(measuredSeconds: number, predictedSeconds: number): void {
    this.measured += measuredSeconds;
    this.predicted += predictedSeconds;
  }

  get value(): number {
    return this.predicted > 0 ? this.measured / this.predicted : 1;
  }
}
