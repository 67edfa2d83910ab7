// Regimes (a) and (a0) are the existing Omniglot studies: their results.json holds every test run's record. When
// the study's settings are the regime's (checked field by field), each record is written as the sweep job's
// study-record.json, so the sweep reuses it instead of training it again (and the report reads it like any other).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { plannedRun, savedRecord, type RunRecord, type StudySettings } from './study.js';
import type { SweepJob } from './regime-jobs.js';

/** The settings that decide a test run's config (mode, seeds, LR grid and file paths do not). */
const COMPARED: (keyof StudySettings)[] = [
  'budget',
  'stepsPerEpoch',
  'imageSize',
  'channels',
  'embeddingDim',
  'maxValidationSamples',
  'lossPreset',
  'ccp',
  'xbm',
  'threads',
  'precision',
  'earlyStopPatience',
  'freezeBatchNorm',
  'maxClasses',
  'pretrainEpochs',
  'augment',
];

/** Why a study's settings are not the regime's ('' when they are). */
export function settingsMismatch(study: Partial<StudySettings>, regime: StudySettings): string {
  const diffs: string[] = [];
  for (const k of COMPARED) {
    const a = JSON.stringify(study[k] ?? null);
    const b = JSON.stringify(regime[k] ?? null);
    if (a !== b) diffs.push(`${k}: ${a} vs ${b}`);
  }
  // Older results.json files have no 'pretrained' key: those studies trained from scratch.
  const pa = study.pretrained ?? 'none';
  const pb = regime.pretrained ?? 'none';
  if (JSON.stringify(pa) !== JSON.stringify(pb)) diffs.push(`pretrained: ${JSON.stringify(pa)} vs ${JSON.stringify(pb)}`);
  return diffs.join('; ');
}

export interface ImportResult {
  imported: number;
  present: number;
  /** Jobs the study has no test run for (other LR or seed). */
  missing: number;
  /** Set when the study's settings differ: nothing is imported. */
  mismatch?: string;
}

/** Writes the study's test-run records as the jobs' records (jobs already done are left alone). */
export function importStudyRecords(studyJson: string, jobs: SweepJob[]): ImportResult {
  const out: ImportResult = { imported: 0, present: 0, missing: 0 };
  if (!existsSync(studyJson)) return { ...out, missing: jobs.length, mismatch: `${studyJson} does not exist` };
  const study = JSON.parse(readFileSync(studyJson, 'utf8')) as { settings: Partial<StudySettings>; runs: RunRecord[] };
  for (const job of jobs) {
    const mismatch = settingsMismatch(study.settings, job.settings);
    if (mismatch) return { ...out, mismatch };
    const { cfg, recordPath, runDir } = plannedRun(job.settings, job.method, 'test', job.seed, job.lr, job.runsDir);
    if (savedRecord(recordPath, cfg)) {
      out.present++;
      continue;
    }
    const r = study.runs.find((x) => x.purpose === 'test' && x.method === job.method.id && x.seed === job.seed && x.lr === job.lr);
    if (!r) {
      out.missing++;
      continue;
    }
    const record: RunRecord & { importedFrom: string } = { ...r, runDir, importedFrom: `${studyJson} (${r.runDir})` };
    delete record.reused;
    mkdirSync(dirname(recordPath), { recursive: true });
    writeFileSync(recordPath, JSON.stringify({ config: cfg, record }, null, 2) + '\n');
    out.imported++;
  }
  return out;
}
