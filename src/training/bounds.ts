// Bounds tying the batch geometry and the loader's read-ahead to the data: a batch cannot ask for more
// classes than the training split has, nor more images per class than its largest class holds, and the
// prefetched batches must fit a memory budget. Checked before any image is read, each error naming its key.
import type { ImageDataset } from '../data/index.js';
import type { RunConfig } from './config.js';

/** Most memory the training loader's batches in flight (prefetched + current) may take. */
export const MAX_LOADER_BYTES = 4 * 2 ** 30;

function gib(n: number): string {
  return `${(n / 2 ** 30).toFixed(2)} GiB`;
}

export function checkTrainingBounds(t: RunConfig['training'], train: ImageDataset, itemShape: readonly [number, number, number]): void {
  const C = train.numClasses;
  if (t.classesPerBatch > C) {
    throw new Error(`training.classesPerBatch is ${t.classesPerBatch}, but the training split (${train.name}) has only ${C} classes: use at most ${C}`);
  }
  const largest = Math.max(0, ...train.classCounts());
  if (t.samplesPerClass > largest) {
    throw new Error(
      `training.samplesPerClass is ${t.samplesPerClass}, but the largest training class of ${train.name} has ${largest} images: every group would repeat images; use at most ${largest}`,
    );
  }
  const itemBytes = 4 * itemShape[0] * itemShape[1] * itemShape[2];
  const batch = t.classesPerBatch * t.samplesPerClass;
  const inFlight = (t.prefetchBatches + 1) * batch * itemBytes;
  if (inFlight > MAX_LOADER_BYTES) {
    throw new Error(
      `training.prefetchBatches is ${t.prefetchBatches}: ${t.prefetchBatches + 1} batches of ${batch} images of ${itemShape.join('x')} floats take ${gib(inFlight)}, over the ${gib(MAX_LOADER_BYTES)} limit; lower training.prefetchBatches or the batch size`,
    );
  }
  const evalBytes = 2 * t.evalBatchSize * itemBytes;
  if (evalBytes > MAX_LOADER_BYTES) {
    throw new Error(
      `training.evalBatchSize is ${t.evalBatchSize}: two batches of ${itemShape.join('x')} floats take ${gib(evalBytes)}, over the ${gib(MAX_LOADER_BYTES)} limit; lower it`,
    );
  }
}
