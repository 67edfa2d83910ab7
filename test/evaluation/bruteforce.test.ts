// Every kNN metric agrees with an independent brute-force implementation (plain JS, float64, full sort per
// query, metrics from their definitions) on random clustered data, in both retrieval modes, and with the
// Python/torch reference fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRetrieval, type RetrievalResult } from '../../src/evaluation/index.js';
import { bruteForceMetrics, bruteForceRanking, clustered, lipschitzRows, readFixture, type BruteMetrics } from './helpers.js';

const KS = [1, 2, 4, 8, 16];

function assertAgree(res: RetrievalResult, bf: BruteMetrics, tol: number, what: string): void {
  const near = (a: number | undefined, b: number, m: string) => assert.ok(a !== undefined && Math.abs(a - b) <= tol, `${what} ${m}: ours ${a}, reference ${b}`);
  near(res.precisionAt1, bf.precisionAt1, 'P@1');
  near(res.rPrecision, bf.rPrecision, 'R-Precision');
  near(res.mapAtR, bf.mapAtR, 'MAP@R');
  for (const K of Object.keys(bf.recallAtK)) near(res.recallAtK![Number(K)], bf.recallAtK[Number(K)]!, `R@${K}`);
  assert.equal(res.numEvaluated, bf.numEvaluated, `${what} evaluated queries`);
  assert.equal(res.numExcluded, bf.numExcluded, `${what} excluded queries`);
}

test('self-retrieval: 300 points, 10 classes, dim 8 (plus lone queries) vs brute force', () => {
  const { data, labels, shape } = clustered(1234, 300, 8, 10, 1.1);
  labels[7] = 100; // two single-sample classes
  labels[123] = 101;
  const [n, d] = shape;
  const bf = bruteForceMetrics(bruteForceRanking(lipschitzRows(data, n, d), n, lipschitzRows(data, n, d), n, d, true), labels, labels, KS);
  assert.ok(bf.mapAtR > 0.05 && bf.mapAtR < 0.9, `non-trivial data (MAP@R ${bf.mapAtR})`);
  for (const budget of [undefined, 50_000]) {
    const res = evaluateRetrieval({ queries: { data, shape }, queryLabels: labels, recallAtK: KS, memoryBudgetBytes: budget });
    assertAgree(res, bf, 1e-12, `budget ${budget}`);
  }
  assert.equal(bf.numExcluded, 2);
  // normalize: 'none' against an unnormalised brute force
  const bfRaw = bruteForceMetrics(bruteForceRanking(data, n, data, n, d, true), labels, labels, KS);
  assertAgree(evaluateRetrieval({ queries: { data, shape }, queryLabels: labels, recallAtK: KS, normalize: 'none' }), bfRaw, 1e-12, 'none');
});

test('query/gallery: 150 queries vs 250 references, dim 8 vs brute force', () => {
  const g = clustered(77, 250, 8, 12, 1.0);
  const q = clustered(77, 150, 8, 14, 1.0); // same seed => same first 12 centres; classes 12, 13 have no gallery items
  const bf = bruteForceMetrics(bruteForceRanking(lipschitzRows(q.data, 150, 8), 150, lipschitzRows(g.data, 250, 8), 250, 8, false), q.labels, g.labels, KS);
  assert.ok(bf.numExcluded > 0);
  const res = evaluateRetrieval({ queries: q, queryLabels: q.labels, references: g, referenceLabels: g.labels, recallAtK: KS, memoryBudgetBytes: 30_000 });
  assertAgree(res, bf, 1e-12, 'query/gallery');
  const res64 = evaluateRetrieval({ queries: q, queryLabels: q.labels, references: g, referenceLabels: g.labels, recallAtK: KS, dtype: 'float64' });
  assertAgree(res64, bf, 1e-12, 'query/gallery float64');
});

interface Expected {
  numEvaluated: number;
  numExcluded: number;
  precisionAt1: number;
  recallAtK: Record<string, number>;
  rPrecision: number;
  mapAtR: number;
  firstNeighbours: number[][];
}
interface Fixture {
  produced_by: string;
  recallAtK: number[];
  self: { embeddings: number[][]; shape: [number, number]; labels: number[]; expected: Expected };
  queryGallery: {
    queries: number[][];
    queryShape: [number, number];
    queryLabels: number[];
    references: number[][];
    referenceShape: [number, number];
    referenceLabels: number[];
    expected: Expected;
  };
}

test('matches the Python/torch reference fixture (self and query/gallery)', () => {
  const fx = readFixture<Fixture>('reference.json');
  assert.match(fx.produced_by, /evaluation_reference\.py/);
  const self = evaluateRetrieval({
    queries: { data: Float32Array.from(fx.self.embeddings.flat()), shape: fx.self.shape },
    queryLabels: fx.self.labels,
    recallAtK: fx.recallAtK,
  });
  const qg = evaluateRetrieval({
    queries: { data: Float32Array.from(fx.queryGallery.queries.flat()), shape: fx.queryGallery.queryShape },
    queryLabels: fx.queryGallery.queryLabels,
    references: { data: Float32Array.from(fx.queryGallery.references.flat()), shape: fx.queryGallery.referenceShape },
    referenceLabels: fx.queryGallery.referenceLabels,
    recallAtK: fx.recallAtK,
  });
  for (const [res, exp, what] of [
    [self, fx.self.expected, 'self'],
    [qg, fx.queryGallery.expected, 'query/gallery'],
  ] as const) {
    assertAgree(res, { ...exp, recallAtK: Object.fromEntries(Object.entries(exp.recallAtK).map(([K, v]) => [Number(K), v])) }, 1e-9, `fixture ${what}`);
  }
});
