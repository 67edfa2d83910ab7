// Mean / std / best / worst of metric results over repeats (spec 5.4), and flat metric records.
import type { RetrievalMetrics } from './evaluate.js';

/** Flat view of metrics: precisionAt1, recallAt<K>, rPrecision, mapAtR, mapAtK, mrr, nmi, ami (only those present). */
export function flattenMetrics(m: RetrievalMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  if (m.precisionAt1 !== undefined) out.precisionAt1 = m.precisionAt1;
  if (m.recallAtK) for (const [K, v] of Object.entries(m.recallAtK)) out[`recallAt${K}`] = v;
  if (m.rPrecision !== undefined) out.rPrecision = m.rPrecision;
  if (m.mapAtR !== undefined) out.mapAtR = m.mapAtR;
  if (m.mapAtK !== undefined) out.mapAtK = m.mapAtK;
  if (m.mrr !== undefined) out.mrr = m.mrr;
  if (m.nmi !== undefined) out.nmi = m.nmi;
  if (m.ami !== undefined) out.ami = m.ami;
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
  const p1 = mean((m) => m.precisionAt1);
  if (p1 !== undefined) out.precisionAt1 = p1;
  if (results.every((r) => r.recallAtK)) {
    const keys = Object.keys(results[0]!.recallAtK!).filter((K) => results.every((r) => r.recallAtK![Number(K)] !== undefined));
    out.recallAtK = {};
    for (const K of keys) out.recallAtK[Number(K)] = mean((m) => m.recallAtK![Number(K)])!;
  }
  const rp = mean((m) => m.rPrecision);
  if (rp !== undefined) out.rPrecision = rp;
  const map = mean((m) => m.mapAtR);
  if (map !== undefined) out.mapAtR = map;
  for (const key of ['mapAtK', 'mrr', 'nmi', 'ami'] as const) {
    const v = mean((m) => m[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export interface Stat {
  mean: number;
  /** Standard deviation with divisor n - ddof (ddof = 0 by default, like numpy). */
  std: number;
  /** Highest value (every metric here is higher-is-better). */
  best: number;
  worst: number;
  n: number;
}

/** Mean, std, best and worst of a list of numbers. */
export function describe(values: readonly number[], ddof = 0): Stat {
  const n = values.length;
  if (n === 0) throw new Error('describe: no values');
  if (!(ddof >= 0) || ddof >= n) throw new Error(`describe: ddof must be in [0, ${n - 1}], got ${ddof}`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - ddof)), best: Math.max(...values), worst: Math.min(...values), n };
}

/** Per-metric statistics over repeats, keyed like flattenMetrics. */
export function summarizeRepeats(results: readonly RetrievalMetrics[], ddof = 0): Record<string, Stat> {
  if (results.length === 0) throw new Error('summarizeRepeats: no results');
  const flat = results.map(flattenMetrics);
  const keys = Object.keys(flat[0]!).filter((key) => flat.every((f) => key in f));
  const out: Record<string, Stat> = {};
  for (const key of keys) out[key] = describe(flat.map((f) => f[key]!), ddof);
  return out;
}
