// Opening a run folder for training: a fresh folder, or (resume) one whose checkpoint was trained with the
// same config, checked before anything is overwritten; temp files of a killed write removed; config.json
// written. Also the run's warnings: stderr, the result, and the metrics log once it is open.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, removeStaleTempFiles } from '../engine/serialization/index.js';
import { parseRunConfig, type RunConfig } from './config.js';
import { checkpointConfig } from './checkpoint.js';
import { resolveConfigPaths } from './config-paths.js';

export interface RunFolder {
  /** The config with paths made absolute (stored so, so eval/embed find the data from any folder). */
  cfg: RunConfig;
  runDir: string;
  checkpointPath: string;
  /** Resuming from a checkpoint that exists. */
  resuming: boolean;
  warnings: string[];
  warn: (message: string) => void;
  /** From now on warnings (and the ones so far) also go to `write`. */
  attachLog: (write: (message: string) => void) => void;
}

/** Config keys that may change between a run and its resume. */
const RESUMABLE_KEYS = new Set([
  'training.maxEpochs',
  'training.timeBudgetSeconds',
  'training.earlyStopPatience',
  'training.logEverySteps',
  'threads',
  'outputDir',
]);

function flatten(obj: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(obj));
  return out;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function checkSameConfig(saved: RunConfig, now: RunConfig, path: string): void {
  const a = flatten(saved);
  const b = flatten(now);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const diff = [...keys].filter((k) => !RESUMABLE_KEYS.has(k) && a.get(k) !== b.get(k));
  if (diff.length) {
    throw new Error(
      `cannot resume ${path}: the config differs from the run's in ${diff.map((k) => `${k} (${a.get(k) ?? 'unset'} -> ${b.get(k) ?? 'unset'})`).join(', ')}`,
    );
  }
}

/** The checkpoint records the config it was trained with; config.json is only a copy a user may delete. */
function checkResumable(cfg: RunConfig, runDir: string, ckptPath: string, configPath: string): void {
  const saved = existsSync(ckptPath) ? checkpointConfig(ckptPath) : null;
  if (saved !== null) checkSameConfig(resolveConfigPaths(parseRunConfig(saved, `the config stored in ${ckptPath}`), process.cwd()), cfg, runDir);
  else if (existsSync(configPath)) checkSameConfig(resolveConfigPaths(parseRunConfig(readJson(configPath), configPath), process.cwd()), cfg, runDir);
  else if (existsSync(ckptPath)) {
    throw new Error(
      `cannot resume ${runDir}: config.json is missing and the checkpoint ${ckptPath} does not record the config it was trained with, so the resumed run could silently differ from it; restore config.json`,
    );
  }
}

/** `writes: false` (the ranks other than 0 of a distributed run): checks only, the folder is rank 0's to write. */
export function openRunFolder(config: RunConfig, runDir: string, options: { resume?: boolean; quiet?: boolean; writes?: boolean }): RunFolder {
  const cfg = resolveConfigPaths(config, process.cwd());
  const checkpointPath = join(runDir, 'checkpoint.safetensors');
  const configPath = join(runDir, 'config.json');
  const hasCheckpoint = existsSync(checkpointPath);
  if (hasCheckpoint && !options.resume) {
    throw new Error(`run folder ${runDir} already holds a checkpoint: pass --resume to continue it, or choose another --name / --out`);
  }
  const warnings: string[] = [];
  let logWarning: ((message: string) => void) | null = null;
  const warn = (message: string) => {
    warnings.push(message);
    logWarning?.(message);
    if (!options.quiet) process.stderr.write(`warning: ${message}\n`);
  };
  const attachLog = (write: (message: string) => void) => {
    logWarning = write;
    for (const w of warnings) write(w);
  };
  if (options.resume) checkResumable(cfg, runDir, checkpointPath, configPath);
  if (options.writes ?? true) {
    mkdirSync(runDir, { recursive: true });
    for (const f of removeStaleTempFiles(runDir)) warn(`removed ${f}, left by a write that was killed`);
    writeFileAtomic(configPath, JSON.stringify(cfg, null, 2) + '\n');
  }
  return { cfg, runDir, checkpointPath, resuming: Boolean(options.resume) && hasCheckpoint, warnings, warn, attachLog };
}
