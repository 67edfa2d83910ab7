// Calibration of a run on its validation split: each validation image queries the others (leave-one-out
// exact nearest neighbour, as a gallery of seen items would answer it), and the curve of precision and recall
// against the distance threshold gives the threshold for the goal.
import { knn, normalizeEmbeddings } from '../evaluation/index.js';
import { tensor, tidy } from '../engine/index.js';
import { ImageLoader } from '../data/index.js';
import { prepareData } from '../training/data-setup.js';
import { embedItems } from '../training/embed.js';
import type { RunConfig } from '../training/config.js';
import type { EmbeddingNet } from '../models/index.js';
import type { ModelIdentity } from '../index/model-identity.js';
import { thresholdCurve, pickThreshold, type ThresholdGoal } from './threshold.js';
import type { Calibration } from './calibration.js';

export async function calibrateRun(run: { config: RunConfig; model: EmbeddingNet; identity: ModelIdentity }, goal: ThresholdGoal): Promise<Calibration> {
  const { config, model } = run;
  const data = await prepareData(config.dataset, config.seed);
  const ds = data.validation;
  if (ds.size < 2) throw new Error(`calibration needs at least 2 validation images, the run's validation split has ${ds.size}`);
  const e = await embedItems(model, new ImageLoader(ds, { mode: 'test', transform: data.transform, onBadItem: config.dataset.onBadItem }), {
    batchSize: config.training.evalBatchSize,
  });
  const n = e.labels.length;
  const rows = tidy(() => normalizeEmbeddings(tensor(e.data, [n, e.dim]), config.evaluation.normalization).toFloat32Array());
  const nn = knn({ data: rows, shape: [n, e.dim] }, null, { k: 1 });
  const distances = Array.from(nn.distances, Number);
  const correct = Array.from({ length: n }, (_, i) => e.labels[nn.indices[i]!] === e.labels[i]);
  const curve = thresholdCurve(distances, correct);
  const p = pickThreshold(curve, goal);
  return {
    model: { hash: run.identity.hash, run: run.identity.run },
    goal,
    split: 'validation',
    queries: n,
    threshold: p.threshold,
    precision: p.precision,
    recall: p.recall,
    f1: p.f1,
    curve,
    created: new Date().toISOString(),
  };
}
