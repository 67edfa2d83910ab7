// What a run checkpoint must hold before a resume may trust it: the trainer's scalar state (epoch, step,
// loader, optimiser, early stopping, CCP and schedule state) with values a real run can reach, and the tensor
// sections those scalars refer to. A tampered or partial checkpoint is refused naming the file and the entry,
// instead of resuming into a run that differs from the one it says it continues.
import type { Tensor } from '../engine/index.js';
import type { LoaderState, SamplerState } from '../data/index.js';
import type { SchedulerState } from '../engine/optim/index.js';
import type { CcpStateScalars } from '../ccp/index.js';
import type { EarlyStoppingState } from './early-stopping.js';
import type { EpochRecord } from './run-types.js';
import type { LossScalingState } from './loss-scaling.js';

export interface TrainerState {
  version: 1;
  epoch: number;
  step: number;
  loader: LoaderState;
  pool: { sampler: SamplerState; batches: number } | null;
  early: EarlyStoppingState;
  schedule: SchedulerState | null;
  ccp: CcpStateScalars | null;
  /** Dynamic loss scaling (absent in runs without it). */
  lossScaling?: LossScalingState;
  optimizer: unknown;
  history: EpochRecord[];
  elapsedSeconds: number;
  hasBest: boolean;
  /** User callbacks' state by callback name (absent when none saved any). */
  callbacks?: Record<string, unknown>;
}

/** What the run being resumed needs from the checkpoint. */
export interface ResumeNeeds {
  stepsPerEpoch: number;
  /** The loss is CCP: pool sampler and controller state are required. */
  ccp: boolean;
  /** A learning-rate schedule is configured: its state is required. */
  schedule: boolean;
  /** Loss scaling is on: its scale is required (after the first epoch). */
  lossScaling?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Throws `checkpoint <path>: entry '<name>' ...` unless `state` (the JSON metadata) and `tensors` form a
 * checkpoint this run can resume from. Returns the state typed.
 */
export function validateTrainerState(path: string, state: unknown, tensors: Map<string, Tensor>, needs: ResumeNeeds): TrainerState {
  const bad = (entry: string, why: string): never => {
    throw new Error(`checkpoint ${path}: entry '${entry}' ${why}`);
  };
  const missing = (entry: string, what: string): never => bad(entry, `is missing (${what}); the file cannot resume this run`);
  if (!isObject(state)) return bad('state', `is ${state === null ? 'missing' : 'not an object'}`);
  if (state.version !== 1) bad('version', `is ${JSON.stringify(state.version)}, expected 1`);
  for (const [key, what] of [
    ['epoch', 'epochs completed'],
    ['step', 'optimiser steps taken'],
    ['loader', 'the training sampler position'],
    ['early', 'the early-stopping state'],
    ['optimizer', 'the optimiser state'],
    ['history', 'the per-epoch records'],
    ['elapsedSeconds', 'the training time so far'],
    ['hasBest', 'whether best weights are stored'],
  ] as const) {
    if (state[key] === undefined || state[key] === null) missing(key, what);
  }
  if (!isCount(state.epoch)) bad('epoch', `is ${JSON.stringify(state.epoch)}, not a non-negative integer`);
  const epoch = state.epoch as number;
  if (!Array.isArray(state.history)) bad('history', 'is not a list');
  const history = state.history as unknown[];
  if (history.length !== epoch) bad('epoch', `is ${epoch}, impossible: the history records ${history.length} epoch(s)`);
  history.forEach((h, i) => {
    if (!isObject(h) || h.epoch !== i + 1) bad(`history[${i}]`, `is not the record of epoch ${i + 1}`);
  });
  if (!isCount(state.step)) bad('step', `is ${JSON.stringify(state.step)}, not a non-negative integer`);
  if (state.step !== epoch * needs.stepsPerEpoch) {
    bad('step', `is ${state.step}, impossible: ${epoch} epoch(s) of ${needs.stepsPerEpoch} steps make ${epoch * needs.stepsPerEpoch}`);
  }
  const loader = state.loader;
  if (!isObject(loader) || !isObject(loader.sampler) || !isCount(loader.nextBatch)) bad('loader', 'is not a loader state {sampler, nextBatch}');
  if ((loader as { nextBatch: number }).nextBatch !== state.step)
    bad('loader.nextBatch', `is ${(loader as { nextBatch: number }).nextBatch}, expected ${state.step} (one batch per step)`);
  if (!isObject(state.early)) bad('early', 'is not an object');
  const optimizer = state.optimizer;
  if (
    !isObject(optimizer) ||
    typeof optimizer.type !== 'string' ||
    !Array.isArray(optimizer.groups) ||
    optimizer.groups.length === 0 ||
    !isObject(optimizer.state)
  ) {
    bad('optimizer', 'is not an optimiser state {type, groups, state}');
  }
  const optim = optimizer as { type: string; state: Record<string, unknown> };
  // Adam keeps moments and a step count for every parameter from the first step on.
  if (epoch > 0 && /adam/i.test(optim.type) && (Object.keys(optim.state).length === 0 || ![...tensors.keys()].some((n) => n.startsWith('optim.')))) {
    missing('optimizer.state', `the ${optim.type} moments of a run ${state.step} steps in`);
  }
  if (typeof state.elapsedSeconds !== 'number' || !Number.isFinite(state.elapsedSeconds) || state.elapsedSeconds < 0) {
    bad('elapsedSeconds', `is ${JSON.stringify(state.elapsedSeconds)}, not a finite number of seconds >= 0`);
  }
  if (typeof state.hasBest !== 'boolean') bad('hasBest', `is ${JSON.stringify(state.hasBest)}, not true or false`);
  if (needs.ccp) {
    if (!isObject(state.pool)) missing('pool', 'the CCP candidate-pool sampler');
    if (!isObject(state.ccp)) missing('ccp', 'the CCP controller state');
  }
  if (needs.schedule && epoch > 0 && !isObject(state.schedule)) missing('schedule', 'the learning-rate schedule state');
  if (needs.lossScaling && epoch > 0) {
    const ls = state.lossScaling;
    if (!isObject(ls) || !isObject(ls.scaler)) missing('lossScaling', 'the loss scale of a run with optimizer.lossScaling on');
    const scale = (ls as { scaler: { scale: unknown } }).scaler.scale;
    if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale))
      bad('lossScaling.scaler.scale', `is ${JSON.stringify(scale)}, not a positive finite number`);
  }
  if (state.callbacks !== undefined && !isObject(state.callbacks)) bad('callbacks', 'is not an object of callback states by name');
  const names = [...tensors.keys()];
  if (!names.some((n) => n.startsWith('model.'))) missing('model.*', 'the model weights');
  if (state.hasBest && !names.some((n) => n.startsWith('best.'))) missing('best.*', 'the best weights, which hasBest says are stored');
  return state as unknown as TrainerState;
}
