// Class-disjoint splits and the MLRC train/validation folds (spec 5.2, Musgrave et al. 2020).
import type { ImageDataset } from './dataset.js';
import { Rng } from './random.js';

/** int(linspace(0, C, n + 1)) exactly as numpy computes it: trunc(i * (C / n)), last = C. */
export function linspaceBoundaries(numClasses: number, numSplits: number): number[] {
  if (!Number.isInteger(numClasses) || numClasses < 0) throw new Error(`numClasses must be a non-negative integer, got ${numClasses}`);
  if (!Number.isInteger(numSplits) || numSplits < 1) throw new Error(`numSplits must be a positive integer, got ${numSplits}`);
  const step = numClasses / numSplits;
  const b = Array.from({ length: numSplits + 1 }, (_, i) => Math.trunc(i * step));
  b[numSplits] = numClasses;
  return b;
}

export interface Fold {
  /** 1-based model index k. */
  k: number;
  /** Index of the class range validated on (numSplits - k). */
  valRange: number;
  /** Labels (of the input dataset) in the training / validation part. */
  trainClasses: number[];
  valClasses: number[];
  /** Datasets with contiguous labels (relative order of the input labels kept). */
  train: ImageDataset;
  val: ImageDataset;
}

/**
 * Model k (1..numSplits) of the MLRC protocol: the classes 0..C-1 of `trainSet` are cut into numSplits
 * contiguous ranges at int(linspace(0, C, numSplits + 1)); model k validates on range numSplits - k and
 * trains on the others. numSplits = 4 is the main protocol, 3 the ablation variant (2/3 train, 1/3 val).
 */
export function mlrcFold(trainSet: ImageDataset, k: number, numSplits = 4): Fold {
  if (!Number.isInteger(k) || k < 1 || k > numSplits) throw new Error(`mlrcFold(): k must be an integer in 1..${numSplits}, got ${k}`);
  const C = trainSet.numClasses;
  if (C < numSplits) throw new Error(`mlrcFold(): ${C} classes cannot be cut into ${numSplits} ranges`);
  const b = linspaceBoundaries(C, numSplits);
  const valRange = numSplits - k;
  const valClasses: number[] = [];
  const trainClasses: number[] = [];
  for (let c = 0; c < C; c++) (c >= b[valRange]! && c < b[valRange + 1]! ? valClasses : trainClasses).push(c);
  return {
    k,
    valRange,
    trainClasses,
    valClasses,
    train: trainSet.selectClasses(trainClasses, `${trainSet.name}/fold${k}-train`),
    val: trainSet.selectClasses(valClasses, `${trainSet.name}/fold${k}-val`),
  };
}

/** All numSplits MLRC models (k = 1..numSplits). */
export function mlrcFolds(trainSet: ImageDataset, numSplits = 4): Fold[] {
  return Array.from({ length: numSplits }, (_, i) => mlrcFold(trainSet, i + 1, numSplits));
}

/** The 3-split ablation: one model trained on 2/3 of the training classes, validated on the last 1/3. */
export function ablationSplit(trainSet: ImageDataset, k = 1): Fold {
  return mlrcFold(trainSet, k, 3);
}

/** Class-disjoint split by label: the first `numTrain` classes (label order) train, the rest test. */
export function classDisjointSplit(ds: ImageDataset, numTrain: number): { train: ImageDataset; test: ImageDataset } {
  if (!Number.isInteger(numTrain) || numTrain < 1 || numTrain >= ds.numClasses) {
    throw new Error(`classDisjointSplit(): numTrain must be in 1..${ds.numClasses - 1}, got ${numTrain}`);
  }
  const all = Array.from({ length: ds.numClasses }, (_, i) => i);
  return {
    train: ds.selectClasses(all.slice(0, numTrain), `${ds.name}/train`),
    test: ds.selectClasses(all.slice(numTrain), `${ds.name}/test`),
  };
}

/**
 * Seeded random class-disjoint split: `trainFraction` (0..1, rounded) or an explicit class count of the
 * classes go to train. Both parts keep ascending label order and are relabelled contiguously.
 */
export function randomClassSplit(
  ds: ImageDataset,
  train: number,
  seed: number,
): { train: ImageDataset; test: ImageDataset; trainClasses: number[]; testClasses: number[] } {
  const C = ds.numClasses;
  const n = train > 0 && train < 1 ? Math.round(train * C) : train;
  if (!Number.isInteger(n) || n < 1 || n >= C)
    throw new Error(`randomClassSplit(): train must be a fraction in (0,1) or a class count in 1..${C - 1}, got ${train}`);
  const perm = new Rng(seed).shuffle(Array.from({ length: C }, (_, i) => i));
  const trainClasses = perm.slice(0, n).sort((a, b) => a - b);
  const testClasses = perm.slice(n).sort((a, b) => a - b);
  return {
    trainClasses,
    testClasses,
    train: ds.selectClasses(trainClasses, `${ds.name}/train`),
    test: ds.selectClasses(testClasses, `${ds.name}/test`),
  };
}
