// Retrieval metrics on hand-computed cases (ties, single-sample classes, duplicates, query/gallery) and the
// metric functions on explicit relevance rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, tensor, int64 } from '../../src/engine/index.js';
import {
  averagePrecisionAtR,
  evaluateRetrieval,
  mapAtR,
  precisionAt1,
  rankedRelevance,
  recallAtK,
  rPrecision,
  relevantCounts,
} from '../../src/evaluation/index.js';

const close = (a: number | undefined, b: number, msg?: string) =>
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${msg ?? ''}: got ${a}, expected ${b}`);

// 1-D, labels A=0, B=1 (normalize: 'none' keeps the 1-D geometry):
//   idx: 0   1   2   3   4   5
//   x:   0   1   2   3   4   10
//   lab: A   B   A   A   B   B        R_q = 2 for every query
// Rankings (ties by smaller index) and the top R = 2 relevance:
//   q0: 1B 2A 3A 4B        rel [0,1]  AP = (1/2)/2 = 0.25  RP 0.5  P@1 0
//   q1: 0A 2A 3A 4B        rel [0,0]  AP 0                 RP 0    P@1 0   (first hit at rank 4)
//   q2: 1B 3A 0A 4B        rel [0,1]  AP 0.25              RP 0.5  P@1 0   (1 and 3 tie at distance 1)
//   q3: 2A 4B 1B 0A        rel [1,0]  AP 0.5               RP 0.5  P@1 1   (2 and 4 tie at distance 1)
//   q4: 3A 2A 1B 0A        rel [0,0]  AP 0                 RP 0    P@1 0   (first hit at rank 3)
//   q5: 4B 3A 2A 1B        rel [1,0]  AP 0.5               RP 0.5  P@1 1
// P@1 = 2/6, R-Precision = 2/6, MAP@R = 1.5/6 = 0.25, R@2 = 4/6, R@4 = 1.
const X1 = [0, 1, 2, 3, 4, 10];
const L1 = [0, 1, 0, 0, 1, 1];

test('hand case with ties: P@1, Recall@K, R-Precision, MAP@R', () => {
  const res = evaluateRetrieval({ queries: { data: new Float32Array(X1), shape: [6, 1] }, queryLabels: L1, normalize: 'none', recallAtK: [1, 2, 4] });
  close(res.precisionAt1, 2 / 6, 'P@1');
  close(res.rPrecision, 2 / 6, 'RP');
  close(res.mapAtR, 0.25, 'MAP@R');
  close(res.recallAtK![1], 2 / 6, 'R@1');
  close(res.recallAtK![2], 4 / 6, 'R@2');
  close(res.recallAtK![4], 1, 'R@4');
  assert.equal(res.mode, 'self');
  assert.equal(res.numEvaluated, 6);
  assert.equal(res.numExcluded, 0);
  assert.equal(res.k, 4);
});

test('a single-sample class (R_q = 0) is excluded from every metric and counted', () => {
  // Add x = -5 with its own label 2: it is never within anyone's top 4, and has no relevant reference.
  const res = evaluateRetrieval({
    queries: { data: new Float32Array([...X1, -5]), shape: [7, 1] },
    queryLabels: [...L1, 2],
    normalize: 'none',
    recallAtK: [1, 2, 4],
  });
  close(res.precisionAt1, 2 / 6, 'P@1');
  close(res.rPrecision, 2 / 6, 'RP');
  close(res.mapAtR, 0.25, 'MAP@R');
  close(res.recallAtK![4], 1, 'R@4');
  assert.equal(res.numQueries, 7);
  assert.equal(res.numEvaluated, 6);
  assert.equal(res.numExcluded, 1);
  // All queries lone: NaN metrics, all excluded.
  const lone = evaluateRetrieval({ queries: { data: new Float32Array([0, 1, 2]), shape: [3, 1] }, queryLabels: [0, 1, 2] });
  assert.ok(Number.isNaN(lone.mapAtR!) && Number.isNaN(lone.precisionAt1!));
  assert.equal(lone.numExcluded, 3);
});

test('duplicate embeddings: self-exclusion by index', () => {
  // rows 0,1,2 identical at the origin, row 3 at (1,0); labels A A B B.
  //   q0: 1A 2B 3B -> P@1 1, R=1, AP 1
  //   q1: 0A 2B 3B -> P@1 1, AP 1            (dropping the "first result" would keep q1 itself)
  //   q2: 0A 1A 3B -> P@1 0, AP 0
  //   q3: 0A 1A 2B -> P@1 0, AP 0
  const res = evaluateRetrieval({ queries: { data: new Float32Array([0, 0, 0, 0, 0, 0, 1, 0]), shape: [4, 2] }, queryLabels: [0, 0, 1, 1], recallAtK: [1, 3] });
  close(res.precisionAt1, 0.5, 'P@1');
  close(res.mapAtR, 0.5, 'MAP@R');
  close(res.rPrecision, 0.5, 'RP');
  close(res.recallAtK![3], 1, 'R@3');
});

test('query/gallery hand case', () => {
  // gallery: 0A 2B 4A 6B; queries: 1 (A), 5 (B), 3 (C: not in the gallery), 6 (B)
  //   q0: g0A g1B (tie at 1) ...  R=2 rel [1,0]  AP 0.5   P@1 1
  //   q1: g2A g3B (tie at 1) ...  R=2 rel [0,1]  AP 0.25  P@1 0
  //   q2: excluded (R=0)
  //   q3: g3B g2A g1B g0A         R=2 rel [1,0]  AP 0.5   P@1 1
  const res = evaluateRetrieval({
    queries: { data: new Float32Array([1, 5, 3, 6]), shape: [4, 1] },
    queryLabels: [0, 1, 2, 1],
    references: { data: new Float32Array([0, 2, 4, 6]), shape: [4, 1] },
    referenceLabels: [0, 1, 0, 1],
    normalize: 'none',
    recallAtK: [1, 2],
  });
  assert.equal(res.mode, 'query-gallery');
  assert.equal(res.numExcluded, 1);
  assert.equal(res.numEvaluated, 3);
  close(res.precisionAt1, 2 / 3, 'P@1');
  close(res.rPrecision, 0.5, 'RP');
  close(res.mapAtR, 1.25 / 3, 'MAP@R');
  close(res.recallAtK![1], 2 / 3, 'R@1');
  close(res.recallAtK![2], 1, 'R@2');
});

test('N(v) normalisation is applied by default and can be switched', () => {
  // a = (3, 0) and b = (0.5, 0): N leaves b, maps a to (1, 0). c = (0, 2) -> (0, 1).
  // Without normalisation b's nearest is c?  |b-a| = 2.5, |b-c| = 2.06 -> c.  With N: |b-a'| = 0.5, |b-c'| = 1.12 -> a.
  const q = { data: new Float32Array([3, 0, 0.5, 0, 0, 2]), shape: [3, 2] as [number, number] };
  const labels = [0, 0, 1];
  close(evaluateRetrieval({ queries: q, queryLabels: labels, metrics: ['precisionAt1'] }).precisionAt1, 1, 'lipschitz');
  close(evaluateRetrieval({ queries: q, queryLabels: labels, metrics: ['precisionAt1'], normalize: 'none' }).precisionAt1, 0.5, 'none');
  close(evaluateRetrieval({ queries: q, queryLabels: labels, metrics: ['precisionAt1'], normalize: 'l2' }).precisionAt1, 1, 'l2');
});

test('metric selection, labels as tensors, no tensor leak', () => {
  const before = liveTensors();
  const qt = tensor(new Float32Array(X1), [6, 1]);
  const lt = int64(L1);
  const res = evaluateRetrieval({ queries: qt, queryLabels: lt, normalize: 'none', metrics: ['mapAtR'] });
  close(res.mapAtR, 0.25);
  assert.equal(res.precisionAt1, undefined);
  assert.equal(res.recallAtK, undefined);
  assert.equal(res.k, 2, 'only max R_q ranks are needed for MAP@R');
  qt.dispose();
  lt.dispose();
  assert.equal(liveTensors(), before);
});

test('input errors', () => {
  const q = { data: new Float32Array(X1), shape: [6, 1] as [number, number] };
  assert.throws(() => evaluateRetrieval({ queries: q, queryLabels: [0, 1] }), /queryLabels: expected 6 labels/);
  assert.throws(() => evaluateRetrieval({ queries: q, queryLabels: [0, 1, 0, 0, 1, 1.5] }), /queryLabels\[5\]: labels must be 32-bit integers/);
  assert.throws(() => evaluateRetrieval({ queries: q, queryLabels: L1, metrics: ['map' as never] }), /unknown metric 'map'/);
  assert.throws(() => evaluateRetrieval({ queries: q, queryLabels: L1, references: q }), /references given without referenceLabels/);
  assert.throws(() => evaluateRetrieval({ queries: q, queryLabels: L1, recallAtK: [0] }), /recallAtK values must be positive integers/);
});

test('metric functions on explicit relevance rows', () => {
  // AP@R by hand: rel = [1, 0, 1, 1], R = 4: (1/1 + 2/3 + 3/4) / 4
  close(averagePrecisionAtR([1, 0, 1, 1], 4), (1 + 2 / 3 + 3 / 4) / 4, 'AP');
  close(averagePrecisionAtR([0, 1, 1, 0, 1], 3), (1 / 2 + 2 / 3) / 3, 'AP cut at R');
  assert.equal(averagePrecisionAtR([0, 0], 2), 0);
  // Two queries with k = 3: labels q=[0,1], references [0,1,0,1,1]
  const rr = rankedRelevance(Int32Array.from([2, 1, 0, 0, 3, 4]), 3, Int32Array.from([0, 1]), Int32Array.from([0, 1, 0, 1, 1]), false);
  assert.deepEqual(Array.from(rr.relevant), [1, 0, 1, 0, 1, 1]);
  assert.deepEqual(Array.from(rr.numRelevant), [2, 3]);
  close(precisionAt1(rr), 0.5);
  close(recallAtK(rr, 2), 1);
  close(rPrecision(rr), (1 / 2 + 2 / 3) / 2);
  close(mapAtR(rr), (1 / 2 + (1 / 2 + 2 / 3) / 3) / 2);
  assert.deepEqual(Array.from(relevantCounts(Int32Array.from([0, 1, 7]), Int32Array.from([0, 1, 0]), false)), [2, 1, 0]);
  assert.throws(() => mapAtR({ ...rr, k: 2, relevant: rr.relevant.slice(0, 4) }), /needs k >= max R_q = 3/);
  assert.throws(() => rankedRelevance(Int32Array.from([0, 1]), 1, Int32Array.from([0, 1]), Int32Array.from([0, 1]), true), /query 0 retrieved itself/);
});
