// Builds a run config from a preset, a YAML/JSON file and CLI overrides (in that order of precedence),
// and validates it once with the schema so every error names its key and source.
import { existsSync } from 'node:fs';
import { readRegularFileSync } from '../engine/serialization/index.js';
import { decodeUtf8 } from '../data/text.js';

/** Largest config file read (a config is a few KiB; this refuses a device or a mistaken data file). */
const MAX_CONFIG_BYTES = 16 * 2 ** 20;
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseRunConfig, type RunConfig } from '../training/config.js';
import { presets, type PresetName } from '../training/presets.js';
import { resolveConfigPaths } from '../training/config-paths.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else is replaced. */
export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  }
  return out;
}

/** Reads a YAML or JSON config file; errors name the file. */
export function readConfigFile(path: string): Obj {
  if (!existsSync(path)) throw new Error(`config file not found: ${path}`);
  const text = decodeUtf8(readRegularFileSync(path, 'config file', MAX_CONFIG_BYTES), `config file ${path}`);
  let value: unknown;
  try {
    value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`cannot parse config file ${path}: ${(e as Error).message}`);
  }
  if (!isObj(value)) throw new Error(`config file ${path} must hold a mapping at the top level`);
  return value;
}

/** Parses a `--set a.b.c=value` override; the value is read as YAML (numbers, booleans, lists, strings). */
export function parseOverride(spec: string): Obj {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects key=value, got '${spec}'`);
  const keys = spec.slice(0, eq).split('.');
  let value: unknown = parseYaml(spec.slice(eq + 1));
  for (let i = keys.length - 1; i >= 0; i--) value = { [keys[i]!]: value };
  return value as Obj;
}

export interface ConfigSources {
  preset?: string;
  file?: string;
  overrides?: Obj[];
}

export function resolveConfig(src: ConfigSources): RunConfig {
  let cfg: Obj = {};
  const origin: string[] = [];
  if (src.preset) {
    if (!(src.preset in presets)) throw new Error(`unknown preset '${src.preset}' (expected one of ${Object.keys(presets).join(', ')})`);
    cfg = deepMerge(cfg, presets[src.preset as PresetName] as Obj);
    origin.push(`preset '${src.preset}'`);
  }
  if (src.file) {
    // A config file's relative paths (dataset.root, dataset.csv, model.pretrained) are relative to the file.
    cfg = deepMerge(cfg, resolveConfigPaths(readConfigFile(src.file), dirname(resolve(src.file))));
    origin.push(src.file);
  }
  for (const o of src.overrides ?? []) cfg = deepMerge(cfg, o);
  if (src.overrides?.length) origin.push('command-line flags');
  if (!isObj(cfg.dataset)) throw new Error('no dataset given: use --preset, a config file with a dataset section, or --dataset');
  return parseRunConfig(cfg, `config (${origin.join(' + ') || 'defaults'})`);
}
