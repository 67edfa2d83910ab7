// Run checkpoints: every tensor a run needs to continue (model, optimiser moments, proxies, CCP snapshots, the
// best weights so far) in one safetensors file, with the trainer's scalar state as JSON metadata. One file
// written atomically, so a run killed at any moment resumes from a consistent epoch boundary. The run's
// callbacks contribute their own parts (checkpointState) and get them back on resume (restoreState).
import { existsSync } from 'node:fs';
import { moveTo, type Tensor } from '../engine/index.js';
import type { Optimizer } from '../engine/optim/index.js';
import { saveSafetensors, loadSafetensors, readSafetensorsMetadata, type SafetensorsFile } from '../engine/serialization/index.js';
import type { BatchLoader } from '../data/index.js';
import type { EmbeddingNet } from '../models/index.js';
import type { StatefulLoss } from './build.js';
import type { CallbackList } from './hooks/callback-list.js';
import type { EpochRecord } from './run-types.js';
import { validateTrainerState, type ResumeNeeds, type TrainerState } from './checkpoint-validation.js';

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
  saveSafetensors(path, data.tensors, {
    format: CHECKPOINT_FORMAT,
    state: JSON.stringify(data.state),
    ...(data.config !== undefined ? { config: JSON.stringify(data.config) } : {}),
  });
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
  if (meta.format !== CHECKPOINT_FORMAT)
    throw new Error(`${path} is not a ccp-dml checkpoint (format '${meta.format ?? 'none'}', expected '${CHECKPOINT_FORMAT}')`);
  if (meta.config === undefined) return null;
  try {
    return JSON.parse(meta.config);
  } catch (e) {
    throw new Error(`checkpoint ${path}: entry 'config' is not valid JSON (${(e as Error).message})`);
  }
}

/** What a run checkpoint holds besides its callbacks' parts: the training state proper. */
export interface RunCheckpointCore {
  epoch: number;
  step: number;
  history: EpochRecord[];
  elapsedSeconds: number;
  model: EmbeddingNet;
  optimizer: Optimizer;
  loader: BatchLoader;
  /** A loss whose tensors (XBM memory, proxies) are saved as loss.*; null for CCP, whose controller saves them. */
  lossState: StatefulLoss | null;
}

/** Prefix of a user callback's tensors in the checkpoint. */
const callbackPrefix = (name: string) => `callbacks.${name}.`;

/**
 * Assembles and writes a run checkpoint: model.*, optim.*, loss.*, then the trainer's own callbacks' tensors
 * and state entries at the top level (the checkpoint format: 'pool', 'early', 'schedule', 'ccp', 'hasBest',
 * best.*), then the user callbacks' parts under 'callbacks' / callbacks.<name>.*.
 */
export function saveRunCheckpoint(path: string, core: RunCheckpointCore, parts: ReturnType<CallbackList['checkpointParts']>, config: unknown): void {
  const optimState = core.optimizer.stateDict();
  const tensors = new Map<string, Tensor>([
    ...prefixed('model.', core.model.stateDict()),
    ...prefixed('optim.', optimState.tensors),
    ...prefixed('loss.', core.lossState ? Object.entries(core.lossState.stateDict()) : []),
  ]);
  for (const p of parts.builtin) for (const [n, t] of p.tensors ?? []) tensors.set(n, t);
  for (const [name, p] of parts.user) for (const [n, t] of p.tensors ?? []) tensors.set(`${callbackPrefix(name)}${n}`, t);
  // Object.assign onto the listed keys keeps their order (the file's metadata reads the same as before callbacks).
  const state: TrainerState = {
    version: 1,
    epoch: core.epoch,
    step: core.step,
    loader: core.loader.getState(),
    pool: null,
    early: null as never,
    schedule: null,
    ccp: null,
    optimizer: optimState.scalars,
    history: core.history,
    elapsedSeconds: core.elapsedSeconds,
    hasBest: false,
  };
  for (const p of parts.builtin) Object.assign(state, p.state ?? {});
  const user = [...parts.user].filter(([, p]) => p.state !== undefined);
  if (user.length) state.callbacks = Object.fromEntries(user.map(([name, p]) => [name, p.state]));
  saveCheckpoint(path, { tensors, state, config });
}

/**
 * Restores a run from its checkpoint into `core`'s model, optimiser, loss and loader and into every callback;
 * returns where the run stands and the names of callbacks whose saved state no callback of this run takes.
 * Errors name the checkpoint.
 */
export function restoreRunCheckpoint(
  path: string,
  core: Omit<RunCheckpointCore, 'epoch' | 'step' | 'history' | 'elapsedSeconds'>,
  callbacks: CallbackList,
  needs: ResumeNeeds,
  device = 'cpu',
): { epoch: number; step: number; history: EpochRecord[]; elapsedSeconds: number; orphans: string[] } {
  const { file, state: raw } = loadCheckpoint<unknown>(path);
  // Every part's tensors on the run's device, so that what the parts keep (optimizer moments, CCP's snapshots,
  // XBM's memory) lives where the weights do.
  for (const [name, t] of file) file.set(name, moveTo(t, device));
  try {
    const state = validateTrainerState(path, raw, file, needs);
    core.model.loadStateDict(section(file, 'model.'));
    core.optimizer.loadStateDict({ tensors: section(file, 'optim.'), scalars: state.optimizer as never });
    core.lossState?.loadStateDict(Object.fromEntries(section(file, 'loss.')));
    for (const c of callbacks.set.builtin) c.restoreState?.({ state, tensors: file });
    const saved = state.callbacks ?? {};
    for (const c of callbacks.set.user) {
      const tensors = section(file, callbackPrefix(c.name));
      if (c.restoreState && (saved[c.name] !== undefined || tensors.size)) c.restoreState({ state: saved[c.name], tensors });
    }
    core.loader.setState(state.loader);
    const orphans = Object.keys(saved).filter((n) => !callbacks.set.user.some((c) => c.name === n));
    return { epoch: state.epoch, step: state.step, history: state.history, elapsedSeconds: state.elapsedSeconds, orphans };
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.includes(path) ? msg : `cannot resume from checkpoint ${path}: ${msg}`, { cause: e });
  } finally {
    file.dispose();
  }
}
