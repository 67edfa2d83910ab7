// Mean / std / best / worst of metric results over repeats (spec 5.4), and flat metric records.
import { METRICS, METRIC_NAMES, metricRow, type MetricRow, type RetrievalMetrics, type ScalarMetricName } from './metric-table.js';

/** The table row behind a flattenMetrics key ('recallAt4' is Recall@K's). */
function flatKeyRow(key: string): MetricRow {
  return /^recallAt\d+$/.test(key) ? METRICS.recallAtK : metricRow(key, 'summarizeRepeats');
}

/** Flat view of metrics: precisionAt1, recallAt<K>, rPrecision, mapAtR, mapAtK, mrr, nmi, ami (only those present). */
export function flattenMetrics(m: RetrievalMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of METRIC_NAMES) {
    if (METRICS[name].kind === 'perK') {
      for (const [K, v] of Object.entries(m.recallAtK ?? {})) out[`${name.replace(/K$/, '')}${K}`] = v;
    } else {
      const v = m[name as ScalarMetricName];
      if (v !== undefined) out[name] = v;
    }
  }
  return out;
}

/** Metrics averaged element-wise over several results (keys present in every result). */
export function meanMetrics(results: readonly RetrievalMetrics[]): RetrievalMetrics {
  if (results.length === 0) throw new Error('meanMetrics: no results to average');
  const mean = (get: (m: RetrievalMetrics) => number | undefined): number | undefined => {
    let s = 0;
    for (const r of results) {
      const v = get(r);
      if (v === undefined) return undefined;
      s += v;
    }
    return s / results.length;
  };
  const out: RetrievalMetrics = {};
  for (const name of METRIC_NAMES) {
    if (METRICS[name].kind === 'perK') {
      if (!results.every((r) => r.recallAtK)) continue;
      const keys = Object.keys(results[0]!.recallAtK!).filter((K) => results.every((r) => r.recallAtK![Number(K)] !== undefined));
      out.recallAtK = {};
      for (const K of keys) out.recallAtK[Number(K)] = mean((m) => m.recallAtK![Number(K)])!;
    } else {
      const v = mean((m) => m[name as ScalarMetricName]);
      if (v !== undefined) out[name as ScalarMetricName] = v;
    }
  }
  return out;
}

export interface Stat {
  mean: number;
  /** Standard deviation with divisor n - ddof (ddof = 0 by default, like numpy). */
  std: number;
  /** Best value: the highest, or the lowest for a metric whose table row says lower is better. */
  best: number;
  worst: number;
  n: number;
}

/** Mean, std, best and worst of a list of numbers (best = highest unless `higherIsBetter` is false). */
export function describe(values: readonly number[], ddof = 0, higherIsBetter = true): Stat {
  const n = values.length;
  if (n === 0) throw new Error('describe: no values');
  if (!(ddof >= 0) || ddof >= n) throw new Error(`describe: ddof must be in [0, ${n - 1}], got ${ddof}`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  const [hi, lo] = [Math.max(...values), Math.min(...values)];
  return { mean, std: Math.sqrt(ss / (n - ddof)), best: higherIsBetter ? hi : lo, worst: higherIsBetter ? lo : hi, n };
}

/** Per-metric statistics over repeats, keyed like flattenMetrics. */
export function summarizeRepeats(results: readonly RetrievalMetrics[], ddof = 0): Record<string, Stat> {
  if (results.length === 0) throw new Error('summarizeRepeats: no results');
  const flat = results.map(flattenMetrics);
  const keys = Object.keys(flat[0]!).filter((key) => flat.every((f) => key in f));
  const out: Record<string, Stat> = {};
  for (const key of keys)
    out[key] = describe(
      flat.map((f) => f[key]!),
      ddof,
      flatKeyRow(key).higherIsBetter,
    );
  return out;
}
