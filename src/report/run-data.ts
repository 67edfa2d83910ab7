// What a run folder says about its training, read back for the report: the resolved config, the epoch, step,
// projection and test records of metrics.jsonl, the final summary, and the software versions of this process.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig } from '../training/config.js';
import type { EpochRecord } from '../training/trainer.js';
import type { CcpProjectionEvent } from '../ccp/index.js';
import type { RetrievalResult } from '../evaluation/index.js';
import { torchVersion } from '../engine/index.js';

export interface StepRecord {
  epoch: number;
  step: number;
  loss: number;
  lr: number;
}

export interface FinalSummary {
  epochs: number;
  steps: number;
  bestEpoch: number;
  bestValidationMapAtR: number;
  stopReason: string;
  wallSeconds: number;
  test?: RetrievalResult;
  ccpProjections?: CcpProjectionEvent[];
}

export interface Versions {
  ccpDml: string;
  node: string;
  libtorch: string;
  platform: string;
}

export interface RunRecords {
  runDir: string;
  config: RunConfig;
  /** One record per epoch (the last written wins: a resumed run may repeat the epoch it was killed in). */
  epochs: EpochRecord[];
  /** Per-step loss windows (training.logEverySteps), empty when not logged. */
  steps: StepRecord[];
  projections: CcpProjectionEvent[];
  test: RetrievalResult | null;
  final: FinalSummary | null;
  versions: Versions;
}

/** The version of this package (package.json two folders above dist/src/report or src/report). */
function packageVersion(): string {
  for (const up of ['../../../package.json', '../../package.json']) {
    const path = new URL(up, import.meta.url);
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'ccp-dml') return pkg.version ?? 'unknown';
  }
  return 'unknown';
}

export function currentVersions(): Versions {
  return { ccpDml: packageVersion(), node: process.version, libtorch: torchVersion, platform: `${process.platform} ${process.arch}` };
}

function readJsonLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A last line cut short by a kill is expected damage; any other bad line is named.
      if (lines.slice(i + 1).some((l) => l.trim())) throw new Error(`${path}:${i + 1}: not a JSON line`);
    }
  });
  return out;
}

/** Reads a run folder (config.json, metrics.jsonl, final-metrics.json). */
export function readRunRecords(runDir: string): RunRecords {
  const configPath = join(runDir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${runDir} is not a run folder: no config.json`);
  const config = parseRunConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
  const lines = readJsonLines(join(runDir, 'metrics.jsonl'));
  const byEpoch = new Map<number, EpochRecord>();
  const steps = new Map<number, StepRecord>();
  const projections = new Map<number, CcpProjectionEvent>();
  let test: RetrievalResult | null = null;
  for (const l of lines) {
    if (l.kind === 'epoch') byEpoch.set(l.epoch as number, l as unknown as EpochRecord);
    else if (l.kind === 'step') steps.set(l.step as number, l as unknown as StepRecord);
    else if (l.kind === 'projection') projections.set(l.t as number, l as unknown as CcpProjectionEvent);
    else if (l.kind === 'test') test = l.test as RetrievalResult;
  }
  const finalPath = join(runDir, 'final-metrics.json');
  const final = existsSync(finalPath) ? (JSON.parse(readFileSync(finalPath, 'utf8')) as FinalSummary) : null;
  // Runs logged before projection lines existed still have the events in their summary.
  for (const e of final?.ccpProjections ?? []) if (!projections.has(e.t)) projections.set(e.t, e);
  const epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  // Epochs past the checkpoint a resume restarted from were trained again; keep the steps they logged last.
  const lastStep = epochs.length ? epochs[epochs.length - 1]!.step : Infinity;
  return {
    runDir,
    config,
    epochs,
    steps: [...steps.values()].filter((s) => s.step <= lastStep).sort((a, b) => a.step - b.step),
    projections: [...projections.values()].sort((a, b) => a.t - b.t),
    test: final?.test ?? test,
    final,
    versions: currentVersions(),
  };
}
