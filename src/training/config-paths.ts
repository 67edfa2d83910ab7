// The file paths inside a run config (dataset folder, CSV manifest, pretrained weights). A config file's relative
// paths mean "relative to the file"; a run's config.json stores them absolute, so `eval`/`embed` work from any
// folder, and a hand-written or moved run folder's relative paths resolve against the run folder.
import { basename, isAbsolute, join, resolve } from 'node:path';

type Obj = Record<string, unknown>;

/** [section, key] of every config value that is a file-system path. */
export const PATH_KEYS: readonly (readonly [string, string])[] = [
  ['dataset', 'root'],
  ['dataset', 'csv'],
  ['model', 'pretrained'],
];

/** A copy of `cfg` (raw or parsed) with each relative path resolved against `base`. */
export function resolveConfigPaths<T extends Obj>(cfg: T, base: string): T {
  const out: Obj = { ...cfg };
  for (const [section, key] of PATH_KEYS) {
    const sec = out[section];
    if (!sec || typeof sec !== 'object') continue;
    const v = (sec as Obj)[key];
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) out[section] = { ...(sec as Obj), [key]: resolve(base, v) };
  }
  return out as T;
}

/**
 * The dataset section pointed at a new data folder (`--data-root`): `root` becomes the folder; for a CSV dataset
 * the manifest (whose image paths are relative to it) is looked up in the folder under its old file name.
 */
export function withDataRoot<T extends { dataset: { name: string; root?: string; csv?: string } }>(cfg: T, dataRoot: string): T {
  const root = resolve(dataRoot);
  const dataset = { ...cfg.dataset, root };
  if (cfg.dataset.csv) dataset.csv = join(root, basename(cfg.dataset.csv));
  return { ...cfg, dataset };
}
