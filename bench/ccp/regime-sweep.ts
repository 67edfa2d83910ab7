// Runs the sweep's jobs one after the other through the study's runOne (each finished run leaves its record, and a
// killed run continues from its last epoch's checkpoint, so an interrupted sweep continues where it stopped). Starts
// no job after the deadline, and (exitAtDeadline) exits at the deadline even mid-run: the run resumes next time.
// SIGINT / SIGTERM: stop after the current run; a second signal exits at once (the run resumes next time). A job
// that another process is training (its run lock is held) is left to that process.
import { studyRunData, type OmniglotStudyData } from './omniglot-data.js';
import { plannedRun, prepareBackbone, runOne, savedRecord, type RunRecord } from './study.js';
import type { SweepJob } from './regime-jobs.js';
import { jobSeconds, SpeedFactor } from './regime-cost.js';
import { lockRun } from './run-lock.js';

export interface SweepOptions {
  jobs: SweepJob[];
  data: OmniglotStudyData;
  /** Folder of the regime folders (the MNIST backbone is made next to it). */
  root: string;
  perStep: Record<string, number>;
  /** Start no job after this time. */
  stopAt?: Date;
  /** Also exit the process at stopAt, mid-run (the sweep's CLI; the run in flight resumes from its checkpoint). */
  exitAtDeadline?: boolean;
  log: (line: string) => void;
  /** Called after every trained job (the report is regenerated there). */
  afterJob?: () => Promise<void> | void;
}

export interface SweepOutcome {
  trained: number;
  reused: number;
  blocked: number;
  /** Jobs left for a later invocation (deadline or signal). */
  left: number;
  /** Jobs skipped because another live process was training them. */
  elsewhere?: number;
  stoppedBy: 'done' | 'deadline' | 'signal';
}

/** Whether a job's record is on disk already (made with its config). */
export function jobDone(job: SweepJob): RunRecord | null {
  const { cfg, recordPath } = plannedRun(job.settings, job.method, 'test', job.seed, job.lr, job.runsDir);
  return savedRecord(recordPath, cfg);
}

function stopSignal(log: (line: string) => void): { requested: () => boolean; dispose: () => void } {
  let requested = false;
  const onSignal = (sig: string) => {
    if (requested) process.exit(130);
    requested = true;
    log(`${sig}: stopping after the current run (send it again to exit now; the run is then redone next time)`);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const dispose = () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  return { requested: () => requested, dispose };
}

function exitAt(when: Date, log: (line: string) => void): NodeJS.Timeout {
  const t = setTimeout(
    () => {
      log(`${when.toISOString()}: deadline reached, exiting; the run in flight continues from its last epoch's checkpoint next time`);
      process.exit(0);
    },
    Math.max(0, when.getTime() - Date.now()),
  );
  t.unref();
  return t;
}

export async function runSweep(o: SweepOptions): Promise<SweepOutcome> {
  const out: SweepOutcome = { trained: 0, reused: 0, blocked: 0, left: 0, stoppedBy: 'done' };
  const speed = new SpeedFactor();
  const signal = stopSignal(o.log);
  const deadline = o.exitAtDeadline && o.stopAt ? exitAt(o.stopAt, o.log) : null;
  const testData = studyRunData(o.data);
  const backboneReady = new Set<string>();
  try {
    for (let i = 0; i < o.jobs.length; i++) {
      const job = o.jobs[i]!;
      const what = `${job.block} ${job.method.label} seed ${job.seed}`;
      if (job.blocked) {
        out.blocked++;
        continue;
      }
      if (jobDone(job)) {
        out.reused++;
        continue;
      }
      const predicted = jobSeconds(job, o.perStep) * speed.value;
      if (signal.requested() || (o.stopAt && Date.now() >= o.stopAt.getTime())) {
        out.stoppedBy = signal.requested() ? 'signal' : 'deadline';
        out.left = o.jobs.slice(i).filter((j) => !j.blocked && !jobDone(j)).length;
        o.log(`stopping before ${what}: ${out.left} job(s) left for the next invocation`);
        break;
      }
      if (job.settings.pretrained === 'mnist' && !backboneReady.has(job.settings.pretrainedFile!)) {
        await prepareBackbone(job.settings, o.root, o.log);
        backboneReady.add(job.settings.pretrainedFile!);
      }
      const lock = lockRun(plannedRun(job.settings, job.method, 'test', job.seed, job.lr, job.runsDir).runDir);
      if (!lock.acquired) {
        out.elsewhere = (out.elsewhere ?? 0) + 1;
        o.log(`[${i + 1}/${o.jobs.length}] ${what}: being trained by process ${lock.owner}, left to it`);
        continue;
      }
      o.log(`[${i + 1}/${o.jobs.length}] ${what} lr ${job.lr}: predicted ≤ ${(predicted / 60).toFixed(1)} min`);
      let r: RunRecord;
      try {
        r = await runOne(job.settings, job.method, 'test', job.seed, job.lr, testData, job.runsDir, false);
      } finally {
        lock.release();
      }
      speed.add(r.wallSeconds, jobSeconds(job, o.perStep, r.steps));
      out.trained++;
      o.log(
        `  test MAP@R ${(100 * r.final.mapAtR).toFixed(2)} (${r.steps} steps, ${r.stopReason}, best epoch ${r.bestEpoch}, ${r.projections.length} projections, ` +
          `${r.wallSeconds.toFixed(0)} s; speed factor ${speed.value.toFixed(2)})`,
      );
      await o.afterJob?.();
    }
  } finally {
    signal.dispose();
    if (deadline) clearTimeout(deadline);
  }
  return out;
}
