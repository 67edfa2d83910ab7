// The sweep's record archive: a copy of every trained job's study-record.json (config and record, without the
// checkpoints) in a folder that is committed with the repository (results/ccp/regime-records). The run folders are
// git-ignored and do not outlive a machine, so without this copy a new checkout would train the whole sweep again;
// with it, a sweep started anywhere restores the finished jobs and trains only what is missing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { plannedRun, sameRunConfig, savedRecord, type RunRecord } from './study.js';
import type { SweepJob } from './regime-jobs.js';

/** The job's file in the archive: <archive>/<block>/<run name>.json (the block may hold a '/', e.g. ablation-a/k1b1). */
export function archivedPath(archive: string, job: SweepJob): string {
  const { runDir } = plannedRun(job.settings, job.method, 'test', job.seed, job.lr, job.runsDir);
  return join(archive, job.block, `${basename(runDir)}.json`);
}

export interface ArchiveCount {
  /** Records written into the archive (archive) or into the run folders (restore). */
  copied: number;
  /** Already there with the same config. */
  present: number;
}

/**
 * Copies the records of finished jobs into the archive. Records imported from a study's results.json are left out
 * (the study's file is committed already); a record already archived with the same config is kept.
 */
export function archiveRecords(archive: string, jobs: SweepJob[]): ArchiveCount {
  const out: ArchiveCount = { copied: 0, present: 0 };
  for (const job of jobs) {
    const { cfg, recordPath } = plannedRun(job.settings, job.method, 'test', job.seed, job.lr, job.runsDir);
    const record = savedRecord(recordPath, cfg);
    if (!record || 'importedFrom' in record) continue;
    const target = archivedPath(archive, job);
    if (savedRecord(target, cfg)) {
      out.present++;
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, readFileSync(recordPath));
    out.copied++;
  }
  return out;
}

/**
 * Writes the archived record of every job that has none in its run folder (same config only), marked with the
 * file it came from; a run folder's own record is never overwritten.
 */
export function restoreRecords(archive: string, jobs: SweepJob[]): ArchiveCount {
  const out: ArchiveCount = { copied: 0, present: 0 };
  for (const job of jobs) {
    const { cfg, recordPath } = plannedRun(job.settings, job.method, 'test', job.seed, job.lr, job.runsDir);
    if (savedRecord(recordPath, cfg)) {
      out.present++;
      continue;
    }
    const source = archivedPath(archive, job);
    if (!existsSync(source)) continue;
    const saved = JSON.parse(readFileSync(source, 'utf8')) as { config: unknown; record: RunRecord };
    if (!sameRunConfig(saved.config, cfg)) continue;
    mkdirSync(dirname(recordPath), { recursive: true });
    writeFileSync(recordPath, JSON.stringify({ config: saved.config, record: { ...saved.record, restoredFrom: source } }, null, 2) + '\n');
    out.copied++;
  }
  return out;
}
