// Converts a loader batch to engine tensors (kept separate so the data layer itself never loads the
// native addon). Call inside tidy(): the tensors are registered in the current scope.
import { tensor, int64, type Tensor } from '../engine/index.js';
import type { Batch } from './loader.js';

export function batchToTensors(batch: Batch): { images: Tensor; labels: Tensor } {
  return { images: tensor(batch.images, [...batch.shape]), labels: int64(batch.labels) };
}
