// npm run bench:regimes -- [options]
//
// "When does CCP help?" (issue 13): C1, C2, MS, Triplet with and without CCP on Omniglot, 3 seeds, in four regimes
// (regimes.ts: (a) the main study's, (a0) its from-scratch variant, (c) LR 1e-4 with global early stopping, (b) the
// paper's LR 1e-5 with global early stopping), plus an ablation of C2-CCP's options in (a) and (a0). Prints the
// plan with its time estimate, imports (a) and (a0) from the studies' results.json when their settings match, then
// trains what is missing; every finished run leaves its record, so the same command resumes an interrupted sweep.
// Writes <out>/regimes.md and <out>/regimes.json after every run.
//
// Options:
//   --plan                 print the plan and the time estimate, run nothing
//   --report               only regenerate regimes.md / regimes.json from the records on disk
//   --stop-at HH:MM | ISO  exit at this time (HH:MM = today, UTC), even mid-run: a killed run continues from its
//                          last epoch's checkpoint next time
//   --only ids             blocks to run: a, a0, c, b, ablation (comma-separated)      [all]
//   --seeds N | a,b,c      the first N seeds, or a list (one seed: --seed N)   [3]
//   --seed N               only seed N (e.g. two processes: --only b --seed 2 and --only c,ablation --seed 2)
//   --runs DIR             run folders (git-ignored, checkpoints)        [results/ccp/runs/regimes]
//   --archive DIR          copies of the finished runs' records, committed: a new checkout restores them from
//                          here instead of training them again              [results/ccp/regime-records]
//   --out DIR              regimes.md / regimes.json                      [results/ccp]
//   --omniglot DIR         folder of the Omniglot zips                    [../shared/data/omniglot]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, flagValue } from './main.js';
import { regimes } from './regimes.js';
import { sweepJobs, type SweepJob } from './regime-jobs.js';
import { importStudyRecords } from './regime-import.js';
import { archiveRecords, restoreRecords } from './regime-archive.js';
import { jobDone, runSweep } from './regime-sweep.js';
import { buildReport, markdownRegimes } from './regime-report.js';
import { planLines, printPlan } from './regime-plan.js';
import { jobSeconds, stepSeconds } from './regime-cost.js';
import { loadOmniglotStudyData } from './omniglot-data.js';

export interface RegimesCli {
  mode: 'run' | 'plan' | 'report';
  stopAt?: Date;
  only?: string[];
  seeds: number[];
  root: string;
  archive: string;
  out: string;
  omniglotRoot?: string;
}

/** The seeds of the plan (3 per cell). */
const DEFAULT_SEEDS = [0, 1, 2] as const;

/** `17:45` = today at 17:45 UTC; anything else is parsed as a date. */
export function parseStopAt(v: string, now = new Date()): Date {
  const m = /^(\d{1,2}):(\d{2})$/.exec(v.trim());
  const d = m ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), Number(m[1]), Number(m[2]))) : new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`--stop-at: expected HH:MM (UTC) or an ISO date, got '${v}'`);
  return d;
}

export function parseRegimesArgs(argv: string[]): RegimesCli {
  const o: RegimesCli = {
    mode: 'run',
    seeds: [...DEFAULT_SEEDS],
    root: join(REPO_ROOT, 'results', 'ccp', 'runs', 'regimes'),
    archive: join(REPO_ROOT, 'results', 'ccp', 'regime-records'),
    out: join(REPO_ROOT, 'results', 'ccp'),
  };
  const blocks = [...regimes().map((r) => r.id), 'ablation'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => flagValue(argv, ++i, a);
    if (a === '--plan') o.mode = 'plan';
    else if (a === '--report') o.mode = 'report';
    else if (a === '--stop-at') o.stopAt = parseStopAt(value());
    else if (a === '--only') {
      o.only = value()
        .split(',')
        .map((s) => s.trim());
      const bad = o.only.filter((b) => !blocks.includes(b));
      if (bad.length) throw new Error(`--only: unknown block(s) ${bad.join(', ')} (expected some of ${blocks.join(', ')})`);
    } else if (a === '--seeds') {
      const v = value();
      const list = v.includes(',');
      const parts = list
        ? v
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x !== '')
        : [v.trim()];
      const xs = parts.some((x) => !/^\d+$/.test(x)) ? [] : list ? parts.map(Number) : Array.from({ length: Number(parts[0]) }, (_, k) => k);
      if (!xs.length) throw new Error(`--seeds: expected a count or a list of seeds, got '${v}'`);
      o.seeds = xs;
    } else if (a === '--seed') {
      const v = value();
      if (!/^\d+$/.test(v.trim())) throw new Error(`--seed: expected one seed (a whole number >= 0), got '${v}'`);
      o.seeds = [Number(v)];
    } else if (a === '--runs') o.root = resolve(value());
    else if (a === '--archive') o.archive = resolve(value());
    else if (a === '--out') o.out = resolve(value());
    else if (a === '--omniglot') o.omniglotRoot = value();
    else throw new Error(`unknown option '${a}' (see the header of bench/ccp/regimes-main.ts)`);
  }
  return o;
}

/** The jobs the report, the imports and the archive cover: every block, with the default seeds and any others asked for. */
export function reportJobs(o: Pick<RegimesCli, 'root' | 'seeds'>): SweepJob[] {
  const seeds = [...new Set([...DEFAULT_SEEDS, ...o.seeds])].sort((a, b) => a - b);
  return sweepJobs(o.root, { seeds });
}

/** Imports (a) and (a0) from the studies' results.json where the settings match; logs what happened. */
function importStudies(jobs: SweepJob[], log: (line: string) => void): void {
  for (const r of regimes()) {
    if (!r.importFrom) continue;
    const mine = jobs.filter((j) => j.block === r.id);
    if (!mine.length) continue;
    const res = importStudyRecords(join(REPO_ROOT, r.importFrom), mine);
    log(
      res.mismatch
        ? `(${r.id}): not imported from ${r.importFrom}: ${res.mismatch} — its runs will be trained`
        : `(${r.id}): ${res.imported} run record(s) imported from ${r.importFrom}, ${res.present} already present, ${res.missing} not in it`,
    );
  }
}

export function writeRegimeReport(jobs: SweepJob[], out: string, command: string, seconds?: (j: SweepJob) => number): { markdown: string; json: string } {
  const rep = buildReport(jobs, jobDone, new Date(), seconds ? planLines(jobs, seconds, jobDone) : undefined);
  mkdirSync(out, { recursive: true });
  const markdown = join(out, 'regimes.md');
  const json = join(out, 'regimes.json');
  writeFileSync(markdown, markdownRegimes(rep, command));
  writeFileSync(json, JSON.stringify(rep, null, 2) + '\n');
  return { markdown, json };
}

export async function regimesMain(argv: string[], log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const o = parseRegimesArgs(argv);
  const jobs = sweepJobs(o.root, { only: o.only, seeds: o.seeds });
  // The report always covers the whole plan (every block, at least the default seeds), so a process that runs a
  // share of the sweep (--only / --seeds) does not overwrite regimes.md with its share alone.
  const reported = reportJobs(o);
  const command = 'npm run bench:regimes';
  importStudies(reported, log);
  const restored = restoreRecords(o.archive, reported);
  log(`archive ${o.archive}: ${restored.copied} run record(s) restored, ${restored.present} already in the run folders`);
  const archive = () => void archiveRecords(o.archive, reported);
  const perStep = stepSeconds(join(REPO_ROOT, 'results', 'ccp', 'results.json'));
  const seconds = (j: SweepJob) => jobSeconds(j, perStep);
  printPlan(jobs, seconds, jobDone, log);
  if (o.mode === 'plan') return;
  if (o.mode === 'run') {
    const cacheFile = join(o.root, '..', 'omniglot-28px.u8');
    const data = await loadOmniglotStudyData({ root: o.omniglotRoot, size: 28, cacheFile });
    log(
      `omniglot: ${data.background.size} + ${data.evaluation.size} images (${data.fromCache ? 'from cache' : 'decoded'} in ${data.decodeSeconds.toFixed(1)} s)`,
    );
    const res = await runSweep({
      jobs,
      data,
      root: o.root,
      perStep,
      stopAt: o.stopAt,
      exitAtDeadline: true,
      log,
      afterJob: () => {
        archive();
        writeRegimeReport(reported, o.out, command, seconds);
      },
    });
    log(`sweep: ${res.trained} trained, ${res.reused} already done, ${res.blocked} waiting for a CCP option, ${res.left} left (${res.stoppedBy})`);
  }
  archive();
  const files = writeRegimeReport(reported, o.out, command, seconds);
  log(`wrote ${files.markdown}, ${files.json}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  regimesMain(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`bench:regimes: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
