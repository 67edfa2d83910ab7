// Run checkpoints: every tensor a run needs to continue (model, optimiser moments, proxies, CCP snapshots, the
// best weights so far) in one safetensors file, with the trainer's scalar state as JSON metadata. One file
// written atomically, so a run killed at any moment resumes from a consistent epoch boundary.
import { existsSync } from 'node:fs';
import type { Tensor } from '../engine/index.js';
import { saveSafetensors, loadSafetensors, readSafetensorsMetadata, type SafetensorsFile } from '../engine/serialization/index.js';

export const CHECKPOINT_FORMAT = 'ccp-dml-checkpoint/1';

export interface CheckpointData<S> {
  tensors: Map<string, Tensor>;
  state: S;
  /** The run's resolved config, so a resume can check it even when config.json is gone. */
  config?: unknown;
}

/** Tensors under `prefix` + name. */
export function prefixed(prefix: string, entries: Iterable<[string, Tensor]>): [string, Tensor][] {
  return [...entries].map(([n, t]) => [`${prefix}${n}`, t]);
}

/** The tensors of `file` whose names start with prefix, with the prefix removed. */
export function section(file: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [n, t] of file) if (n.startsWith(prefix)) out.set(n.slice(prefix.length), t);
  return out;
}

export function saveCheckpoint<S>(path: string, data: CheckpointData<S>): void {
  saveSafetensors(path, data.tensors, { format: CHECKPOINT_FORMAT, state: JSON.stringify(data.state), ...(data.config !== undefined ? { config: JSON.stringify(data.config) } : {}) });
}

/** Loads a checkpoint; the caller disposes `file` when done. */
export function loadCheckpoint<S>(path: string): { file: SafetensorsFile; state: S } {
  if (!existsSync(path)) throw new Error(`no checkpoint at ${path}`);
  let file: SafetensorsFile;
  try {
    file = loadSafetensors(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (file.metadata.format !== CHECKPOINT_FORMAT) {
    file.dispose();
    throw new Error(`${path} is not a ccp-dml checkpoint (format '${file.metadata.format ?? 'none'}', expected '${CHECKPOINT_FORMAT}')`);
  }
  try {
    return { file, state: JSON.parse(file.metadata.state ?? 'null') as S };
  } catch (e) {
    file.dispose();
    throw new Error(`${path}: checkpoint state is not valid JSON (${(e as Error).message})`);
  }
}

/** The run config stored in a checkpoint's header (null for checkpoints written before it was stored). */
export function checkpointConfig(path: string): unknown {
  let meta: Record<string, string>;
  try {
    meta = readSafetensorsMetadata(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${path} is not a ccp-dml checkpoint (format '${meta.format ?? 'none'}', expected '${CHECKPOINT_FORMAT}')`);
  if (meta.config === undefined) return null;
  try {
    return JSON.parse(meta.config);
  } catch (e) {
    throw new Error(`checkpoint ${path}: entry 'config' is not valid JSON (${(e as Error).message})`);
  }
}
