// The metrics table is the one list of retrieval metrics: every row is computed by evaluateRetrieval, carried by
// the summaries, shown by the tables and accepted by the config; MRR on a hand-computed case through the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_METRICS,
  METRICS,
  METRIC_NAMES,
  OPT_IN_METRICS,
  describe as describeValues,
  evaluateRetrieval,
  flattenMetrics,
  formatMetric,
  meanMetrics,
  metricRows,
  summarizeRepeats,
} from '../../src/evaluation/index.js';
import { EvaluationConfig } from '../../src/training/config.js';

// The hand case of metrics.test.ts (1-D, normalize 'none', ties by smaller index). First same-class rank:
//   q0 A: 1B 2A        -> 2     q1 B: 0A 2A 3A 4B -> 4     q2 A: 1B 3A -> 2
//   q3 A: 2A           -> 1     q4 B: 3A 2A 1B    -> 3     q5 B: 4B    -> 1
// MRR = (1/2 + 1/4 + 1/2 + 1 + 1/3 + 1) / 6 = 43/72.
const X1 = { data: new Float32Array([0, 1, 2, 3, 4, 10]), shape: [6, 1] };
const L1 = [0, 1, 0, 0, 1, 1];

test('MRR through the table: hand-computed, and capped to the top atK ranks', () => {
  const all = evaluateRetrieval({ queries: X1, queryLabels: L1, normalize: 'none', metrics: ['mrr'] });
  assert.ok(Math.abs(all.mrr! - 43 / 72) < 1e-12, `${all.mrr}`);
  assert.equal(all.k, 5); // atK = 10 capped to the 5 candidates
  // atK = 2: queries whose first hit is below rank 2 count 0: (1/2 + 1/2 + 1 + 1) / 6.
  const top2 = evaluateRetrieval({ queries: X1, queryLabels: L1, normalize: 'none', metrics: ['mrr'], atK: 2 });
  assert.ok(Math.abs(top2.mrr! - 3 / 6) < 1e-12, `${top2.mrr}`);
  assert.equal(top2.k, 2);
});

test('every row is computed on request and reaches the summaries and the tables', () => {
  const r = evaluateRetrieval({ queries: X1, queryLabels: L1, normalize: 'none', metrics: METRIC_NAMES, recallAtK: [2, 4], kmeans: { seed: 1 } });
  const flat = flattenMetrics(r);
  const labels = metricRows(r).map(([label]) => label);
  for (const name of METRIC_NAMES) {
    const row = METRICS[name];
    if (row.kind === 'perK') {
      assert.deepEqual(Object.keys(r.recallAtK!), ['2', '4']);
      assert.deepEqual([flat.recallAt2, flat.recallAt4], [r.recallAtK![2], r.recallAtK![4]]);
      assert.ok(labels.includes(row.labelAt(4)));
    } else {
      assert.equal(typeof r[name], 'number', name);
      assert.equal(flat[name], r[name], name);
      assert.ok(labels.includes(row.label), `${row.label} in the table`);
    }
  }
  assert.deepEqual(labels, ['P@1', 'R@2', 'R@4', 'R-Precision', 'MAP@R', 'MAP@K', 'MRR', 'NMI', 'AMI']);
  assert.deepEqual(Object.keys(flattenMetrics(meanMetrics([r, r]))).sort(), Object.keys(flat).sort());
  assert.deepEqual(Object.keys(summarizeRepeats([r, r])).sort(), Object.keys(flat).sort());
});

test('defaults, the config’s opt-in list and formatting come from the table', () => {
  assert.deepEqual(DEFAULT_METRICS, ['precisionAt1', 'recallAtK', 'rPrecision', 'mapAtR']);
  assert.deepEqual(OPT_IN_METRICS, ['mapAtK', 'mrr', 'nmi', 'ami']);
  assert.deepEqual(EvaluationConfig.parse({ extraMetrics: OPT_IN_METRICS }).extraMetrics, OPT_IN_METRICS);
  assert.throws(() => EvaluationConfig.parse({ extraMetrics: ['precisionAtK'] }));
  const def = evaluateRetrieval({ queries: X1, queryLabels: L1, normalize: 'none' });
  assert.deepEqual(
    Object.keys(flattenMetrics(def)).sort(),
    ['mapAtR', 'precisionAt1', 'rPrecision', 'recallAt1', 'recallAt2', 'recallAt4', 'recallAt8'].sort(),
  );
  assert.throws(
    () => evaluateRetrieval({ queries: X1, queryLabels: L1, metrics: ['hitRate' as 'mrr'] }),
    /unknown metric 'hitRate' \(known: precisionAt1, recallAtK/,
  );
  assert.deepEqual([formatMetric(0.4321), formatMetric(undefined), formatMetric(NaN)], ['43.21', '-', '-']);
  // Direction: best/worst follow the row's higherIsBetter.
  assert.deepEqual([describeValues([0.2, 0.5], 0, false).best, describeValues([0.2, 0.5], 0, false).worst], [0.2, 0.5]);
  assert.equal(describeValues([0.2, 0.5]).best, 0.5);
});
