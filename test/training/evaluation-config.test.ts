// The evaluation section of a run config reaches the metrics: extra metrics, their K and per-class averaging.
import test from 'node:test';
import assert from 'node:assert/strict';
import { EvaluationConfig } from '../../src/training/config.js';
import { evaluateEmbeddings } from '../../src/training/embed.js';
import { evaluateRetrieval } from '../../src/evaluation/index.js';

// 3 classes of unequal size on a line: class c near 10c, so most neighbours are right and some are not.
const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2]);
const data = Float32Array.from([0, 1, 2, 13, 10, 11, 3, 20, 21, 22, 12, 23].flatMap((x) => [x, 0.5 * (x % 3)]));
const emb = { data, dim: 2, labels };

test('evaluation.extraMetrics / atK / avgOfAvgs reach evaluateRetrieval', () => {
  const evaluation = EvaluationConfig.parse({ extraMetrics: ['mapAtK', 'mrr', 'ami'], atK: 3, avgOfAvgs: true, normalization: 'none' });
  const r = evaluateEmbeddings(emb, undefined, { ...evaluation, seed: 0 });
  const ref = evaluateRetrieval({
    queries: { data, shape: [labels.length, 2] },
    queryLabels: labels,
    metrics: ['precisionAt1', 'mapAtK', 'mrr', 'ami'],
    atK: 3,
    avgOfAvgs: true,
    normalize: 'none',
    kmeans: { seed: 0 },
  });
  for (const k of ['precisionAt1', 'mapAtK', 'mrr', 'ami'] as const) {
    assert.equal(typeof r[k], 'number', k);
    assert.equal(r[k], ref[k], k);
  }
  const plain = evaluateEmbeddings(emb, undefined, { ...EvaluationConfig.parse({ normalization: 'none' }), seed: 0 });
  assert.equal(plain.mapAtK, undefined);
  assert.equal(plain.mrr, undefined);
  assert.notEqual(plain.precisionAt1, r.precisionAt1, 'per-class averaging changes P@1 on unequal classes');
  assert.throws(() => EvaluationConfig.parse({ extraMetrics: ['mrr', 'ndcg'] }), /ndcg|extraMetrics/);
});
