// Ensembles (separated "128D" mean vs concatenated "512D") and repeat statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describe as stat,
  evaluateEnsemble,
  evaluateEnsembleRepeats,
  evaluateRetrieval,
  flattenMetrics,
  meanMetrics,
  summarizeRepeats,
} from '../../src/evaluation/index.js';
import { clustered, lipschitzRows } from './helpers.js';

function model(seed: number, n = 120, d = 6) {
  const c = clustered(seed, n, d, 8, 1.0);
  return { data: c.data, shape: c.shape };
}
// One label set for every model (the clusters of seed 1); models 2.. are embeddings from other seeds, so
// they agree with the labels only by chance. The tests check the ensemble arithmetic, not model quality.
const labels = clustered(1, 120, 6, 8).labels;

test('separated = mean of per-model metrics; concatenated = N(concat(N(e_i))) evaluated once', () => {
  const models = [model(1), model(2), model(3)].map((m) => ({ queries: m }));
  const res = evaluateEnsemble(models, { queryLabels: labels });
  assert.equal(res.perModel.length, 3);
  for (let i = 0; i < 3; i++)
    assert.deepEqual(flattenMetrics(res.perModel[i]!), flattenMetrics(evaluateRetrieval({ queries: models[i]!.queries, queryLabels: labels })));
  const mean = (f: (i: number) => number) => (f(0) + f(1) + f(2)) / 3;
  assert.ok(Math.abs(res.separated.mapAtR! - mean((i) => res.perModel[i]!.mapAtR!)) < 1e-15);
  assert.ok(Math.abs(res.separated.recallAtK![4]! - mean((i) => res.perModel[i]!.recallAtK![4]!)) < 1e-15);
  // Build the concatenation by hand: per-model N, concatenate (18-D), N again.
  const n = 120;
  const parts = models.map((m) => lipschitzRows(m.queries.data, n, 6));
  const cat = new Float64Array(n * 18);
  for (let i = 0; i < n; i++) for (let m = 0; m < 3; m++) for (let j = 0; j < 6; j++) cat[i * 18 + m * 6 + j] = parts[m]![i * 6 + j]!;
  const manual = evaluateRetrieval({ queries: { data: cat, shape: [n, 18] }, queryLabels: labels, dtype: 'float64' });
  const concat64 = evaluateEnsemble(models, { queryLabels: labels, dtype: 'float64' }).concatenated;
  assert.deepEqual(flattenMetrics(concat64), flattenMetrics(manual));
  assert.notDeepEqual(flattenMetrics(res.concatenated), flattenMetrics(res.separated));
});

test('query/gallery ensembles need references for every model', () => {
  const q = model(4, 40),
    g = model(5, 60);
  const ql = clustered(4, 40, 6, 8).labels,
    gl = clustered(5, 60, 6, 8).labels;
  const res = evaluateEnsemble(
    [
      { queries: q, references: g },
      { queries: model(7, 40), references: model(8, 60) },
    ],
    { queryLabels: ql, referenceLabels: gl },
  );
  assert.equal(res.concatenated.mode, 'query-gallery');
  assert.throws(() => evaluateEnsemble([{ queries: q }], { queryLabels: ql, referenceLabels: gl }), /models\[0\]\.references is missing/);
  assert.throws(() => evaluateEnsemble([{ queries: q }, { queries: model(6, 41) }], { queryLabels: ql }), /models\[1\]\.queries has 41 rows/);
});

test('describe / summarizeRepeats by hand', () => {
  const s = stat([0.5, 0.7, 0.9]);
  assert.ok(Math.abs(s.mean - 0.7) < 1e-15);
  assert.ok(Math.abs(s.std - Math.sqrt(0.08 / 3)) < 1e-15, 'population std (ddof 0)');
  assert.ok(Math.abs(stat([0.5, 0.7, 0.9], 1).std - 0.2) < 1e-15, 'sample std (ddof 1)');
  assert.equal(s.best, 0.9);
  assert.equal(s.worst, 0.5);
  const sum = summarizeRepeats([
    { mapAtR: 0.2, recallAtK: { 1: 0.4 } },
    { mapAtR: 0.4, recallAtK: { 1: 0.6 } },
  ]);
  assert.deepEqual(Object.keys(sum).sort(), ['mapAtR', 'recallAt1']);
  assert.ok(Math.abs(sum.mapAtR!.mean - 0.3) < 1e-15 && Math.abs(sum.recallAt1!.std - 0.1) < 1e-15);
  assert.deepEqual(
    meanMetrics([
      { precisionAt1: 1, nmi: 0.5 },
      { precisionAt1: 0, nmi: 0.25 },
    ]),
    { precisionAt1: 0.5, nmi: 0.375 },
  );
});

test('every combination of repeats is evaluated and summarised', () => {
  const reps = [
    [model(1), model(2)],
    [model(3), model(4), model(5)],
  ].map((r) => r.map((m) => ({ queries: m })));
  const res = evaluateEnsembleRepeats(reps, { queryLabels: labels, metrics: ['mapAtR'] });
  assert.equal(res.combinations, 6);
  assert.equal(res.separated.mapAtR!.n, 6);
  const single = reps.map((r) => r.map((m) => evaluateRetrieval({ queries: m.queries, queryLabels: labels, metrics: ['mapAtR'] }).mapAtR!));
  const combos: number[] = [];
  const concat: number[] = [];
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 3; b++) {
      combos.push((single[0]![a]! + single[1]![b]!) / 2);
      concat.push(evaluateEnsemble([reps[0]![a]!, reps[1]![b]!], { queryLabels: labels, metrics: ['mapAtR'] }).concatenated.mapAtR!);
    }
  const s = stat(combos);
  assert.ok(Math.abs(res.separated.mapAtR!.mean - s.mean) < 1e-15 && Math.abs(res.separated.mapAtR!.std - s.std) < 1e-15);
  assert.deepEqual(res.concatenated.mapAtR, stat(concat));
  assert.throws(() => evaluateEnsembleRepeats(reps, { queryLabels: labels, maxCombinations: 5 }), /6 combinations exceed maxCombinations = 5/);
});
