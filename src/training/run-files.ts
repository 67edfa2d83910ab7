// A run folder's files, and reading a finished run back: its resolved config and its best model weights.
// Training writes the folder; the report, the CLI and the MLRC runner read it.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModule } from '../engine/serialization/index.js';
import { resolvePrecision, type PrecisionRequest } from '../engine/index.js';
import { buildModel } from './build.js';
import { resolveDevice, type Device } from './device.js';
import { DEVICE_SETTING_EXPECTED, isDeviceSetting, type DeviceSetting } from './device-setting.js';
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

/** What the commands' --precision and --device ask of every run they load, instead of the run's own settings. */
export interface RunExecutionOverride {
  precision?: PrecisionRequest;
  device?: DeviceSetting;
}

let override: { precision?: PrecisionRequest; device?: Device } = {};

/**
 * Precision and device for every run loaded from now on (the commands' --precision and --device). Both are
 * checked here, against each other and the libtorch loaded, so a bad choice fails before any data is read.
 * Without --device a run loads on the CPU, whatever device it trained on.
 */
export function overrideRunExecution(o: RunExecutionOverride): void {
  let device: Device | undefined;
  if (o.device !== undefined) {
    if (!isDeviceSetting(o.device)) throw new Error(`--device: ${DEVICE_SETTING_EXPECTED}, got '${o.device}'`);
    device = resolveDevice(o.device, { source: '--device' }).device;
  }
  if (o.precision !== undefined) {
    try {
      resolvePrecision(o.precision, device ?? 'cpu');
    } catch (e) {
      throw new Error(`--precision: ${(e as Error).message}`);
    }
  }
  override = { precision: o.precision, device };
}

/**
 * Loads `<run>/config.json` and `<run>/model.safetensors` (or an explicit weights file). Relative data paths in
 * config.json resolve against the run folder; `dataRoot` points the dataset at a folder it was moved to.
 * `device` (default: the commands' --device, else 'cpu') and `precision` (default: --precision, else the run's
 * own) say where and how the model computes; the weights are the same either way.
 */
export function loadRun(runDir: string, weights?: string, opts: { dataRoot?: string; device?: DeviceSetting; precision?: PrecisionRequest } = {}): LoadedRun {
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
  const device = opts.device ? resolveDevice(opts.device, { source: "loadRun's device" }).device : (override.device ?? 'cpu');
  // A run trained in fp16 on a GPU still loads on the CPU (fp16 autocast is CUDA-only): its own choice falls back
  // to 'auto' there; an explicit fp16 is refused.
  const own = config.model.precision === 'fp16' && device === 'cpu' ? 'auto' : config.model.precision;
  const precision = opts.precision ?? override.precision ?? own;
  // The pretrained backbone file is not needed: the run's weights hold every tensor.
  const model = buildModel({ ...config, model: { ...config.model, pretrained: undefined, precision } }, shape, device);
  loadModule(modelPath, model);
  model.eval();
  return { config, model };
}
