// A run's calibration: the distance threshold that turns nearest neighbours into "matched label" or
// "unknown", saved as <run>/calibration.json with the model it was computed for and the whole curve.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../engine/serialization/index.js';
import { checkSameModel, type ModelIdentity } from '../index/model-identity.js';
import type { CurvePoint, ThresholdGoal } from './threshold.js';

export const CALIBRATION_FILE = 'calibration.json';

export interface Calibration {
  model: Pick<ModelIdentity, 'hash' | 'run'>;
  goal: ThresholdGoal;
  /** Which split the queries came from, and how many. */
  split: string;
  queries: number;
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  curve: CurvePoint[];
  created: string;
}

/** The answer to one query: the nearest neighbour's label when it is within the threshold. */
export type Match = { label: string | null; distance: number } | 'unknown';

export function match(nearest: { label: string | null; distance: number } | undefined, threshold: number): Match {
  if (!nearest || !(nearest.distance <= threshold)) return 'unknown';
  return { label: nearest.label, distance: nearest.distance };
}

export function saveCalibration(runDir: string, c: Calibration): string {
  const path = join(runDir, CALIBRATION_FILE);
  writeFileAtomic(path, JSON.stringify(c, null, 2) + '\n');
  return path;
}

/** The run's calibration, or undefined when it has none; refuses one made for another model. */
export function loadCalibration(runDir: string, model: ModelIdentity): Calibration | undefined {
  const path = join(runDir, CALIBRATION_FILE);
  if (!existsSync(path)) return undefined;
  const c = JSON.parse(readFileSync(path, 'utf8')) as Calibration;
  checkSameModel(`calibration ${path}`, c.model, model);
  return c;
}
