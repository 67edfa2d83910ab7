// The sweep's plan as printed before it runs: per block (regime or ablation variant) the runs planned, done and
// waiting for an option, and the predicted time of what is left at the reference speed (one thread, the main
// study's measured step times); then the total and what was cut to fit.
import { CUT_TO_FIT } from './regimes.js';
import type { SweepJob } from './regime-jobs.js';
import type { RunRecord } from './study.js';

export interface PlanLine {
  block: string;
  runs: number;
  done: number;
  blocked: number;
  /** Predicted seconds of the runs left (step caps: early stopping makes it shorter). */
  secondsLeft: number;
}

export function planLines(jobs: SweepJob[], seconds: (j: SweepJob) => number, done: (j: SweepJob) => RunRecord | null): PlanLine[] {
  const lines = new Map<string, PlanLine>();
  for (const j of jobs) {
    const l = lines.get(j.block) ?? { block: j.block, runs: 0, done: 0, blocked: 0, secondsLeft: 0 };
    l.runs++;
    if (j.blocked) l.blocked++;
    else if (done(j)) l.done++;
    else l.secondsLeft += seconds(j);
    lines.set(j.block, l);
  }
  return [...lines.values()];
}

export function printPlan(
  jobs: SweepJob[],
  seconds: (j: SweepJob) => number,
  done: (j: SweepJob) => RunRecord | null,
  log: (line: string) => void,
): PlanLine[] {
  const lines = planLines(jobs, seconds, done);
  const min = (s: number) => (s / 60).toFixed(0).padStart(5);
  log('plan (block: runs, done, waiting for an option, predicted minutes left at the reference speed, 1 thread, step caps):');
  for (const l of lines)
    log(
      `  ${l.block.padEnd(26)} ${String(l.runs).padStart(3)} runs ${String(l.done).padStart(3)} done ${String(l.blocked).padStart(3)} waiting ${min(l.secondsLeft)} min`,
    );
  const total = lines.reduce((a, l) => a + l.secondsLeft, 0);
  const all = jobs.reduce((a, j) => a + (j.blocked ? 0 : seconds(j)), 0);
  log(
    `  left: ${(total / 3600).toFixed(2)} h (the whole sweep from nothing, imports aside: ${(all / 3600).toFixed(2)} h); on a loaded machine multiply by the speed factor the sweep prints`,
  );
  log('cut to fit:');
  for (const c of CUT_TO_FIT) log(`  - ${c}`);
  return lines;
}
