// Reading a finished run folder back: its resolved config and its best model weights.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModule } from '../engine/serialization/index.js';
import { resolvePrecision, type PrecisionRequest } from '../engine/index.js';
import { buildModel } from '../training/build.js';
import { parseRunConfig, type RunConfig } from '../training/config.js';
import { resolveConfigPaths, withDataRoot } from '../training/config-paths.js';
import { transformFor } from '../training/data-setup.js';
import { outputShape } from '../data/index.js';
import type { EmbeddingNet } from '../models/index.js';

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
  const modelPath = weights ?? join(runDir, 'model.safetensors');
  if (!existsSync(modelPath)) throw new Error(`no model weights at ${modelPath} (the run has not finished an epoch yet?)`);
  const shape = outputShape(transformFor(config.dataset));
  // The pretrained backbone file is not needed: the run's weights hold every tensor.
  const model = buildModel({ ...config, model: { ...config.model, pretrained: undefined, precision: precisionOverride ?? config.model.precision } }, shape);
  loadModule(modelPath, model);
  model.eval();
  return { config, model };
}
