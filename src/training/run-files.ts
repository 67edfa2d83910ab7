// A run folder's files, and reading a finished run back: its resolved config and its best model weights.
// Training writes the folder; the report, the CLI and the MLRC runner read it.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModule } from '../engine/serialization/index.js';
import { resolvePrecision, type PrecisionRequest } from '../engine/index.js';
import { buildModel } from './build.js';
import { parseRunConfig, type RunConfig } from './config.js';
import { resolveConfigPaths, withDataRoot } from './config-paths.js';
import { transformFor } from './data-setup.js';
import { outputShape } from '../data/index.js';
import type { EmbeddingNet } from '../models/index.js';

/** The best weights so far (rewritten on each new best, and at the end). */
export const MODEL_FILE = 'model.safetensors';
/** The best weights' CCP proxies and their labels (CCP runs), for the report's embedding map. */
export const PROXIES_FILE = 'proxies.safetensors';
/** The MLRC protocol folder's results: every fold model's run and the ensembles. */
export const MLRC_RESULTS_FILE = 'mlrc-results.json';

export interface LoadedRun {
  config: RunConfig;
  model: EmbeddingNet;
}

let precisionOverride: PrecisionRequest | undefined;

/** Precision for every run loaded from now on (the commands' --precision), instead of the run's own. */
export function overrideRunPrecision(p: PrecisionRequest | undefined): void {
  if (p !== undefined) {
    try {
      resolvePrecision(p); // validates: the CLI builds its models on the CPU
    } catch (e) {
      throw new Error(`--precision: ${(e as Error).message}`);
    }
  }
  precisionOverride = p;
}

/**
 * Loads `<run>/config.json` and `<run>/model.safetensors` (or an explicit weights file). Relative data paths in
 * config.json resolve against the run folder; `dataRoot` points the dataset at a folder it was moved to.
 */
export function loadRun(runDir: string, weights?: string, opts: { dataRoot?: string } = {}): LoadedRun {
  const configPath = join(runDir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${runDir} is not a run folder: no config.json (train one with 'ccp-dml train')`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new Error(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  let config = resolveConfigPaths(parseRunConfig(raw, configPath), resolve(runDir));
  if (opts.dataRoot) config = withDataRoot(config, opts.dataRoot);
  const modelPath = weights ?? join(runDir, MODEL_FILE);
  if (!existsSync(modelPath)) throw new Error(`no model weights at ${modelPath} (the run has not finished an epoch yet?)`);
  const shape = outputShape(transformFor(config.dataset));
  // The pretrained backbone file is not needed: the run's weights hold every tensor.
  const model = buildModel({ ...config, model: { ...config.model, pretrained: undefined, precision: precisionOverride ?? config.model.precision } }, shape);
  loadModule(modelPath, model);
  model.eval();
  return { config, model };
}
