// The retrieval metrics, one row each: name, label, direction, whether it is computed by default, and how it
// is computed. evaluateRetrieval, the summaries over repeats, the terminal and report tables and the config's
// `evaluation.extraMetrics` all read this table, so a new metric is one row here.
import type { RankedRelevance } from './relevance.js';
import { mapAtK, mapAtR, meanReciprocalRank, precisionAt1, recallAtK, rPrecision } from './metrics.js';
import { adjustedMutualInformation, normalizedMutualInformation } from './nmi.js';

/** What a kNN metric sees: the ranked relevance of k neighbours and the evaluation's K values. */
export interface KnnMetricInput {
  rr: RankedRelevance;
  /** Neighbours retrieved (K values above it are capped to it). */
  k: number;
  /** K of MAP@K and MRR. */
  atK: number;
  /** Query labels when every metric is averaged per class first (avgOfAvgs). */
  perClass?: ArrayLike<number>;
}

/** What a metric needs retrieved: R_q's maximum (R-Precision, MAP@R) or its K. */
export interface DepthInput {
  maxR: number;
  atK: number;
}

interface MetricRowBase {
  /** Table label ('P@1'). */
  label: string;
  higherIsBetter: boolean;
  /** Computed when `metrics` is not given. */
  byDefault: boolean;
}

/** A kNN metric: computed from the ranked neighbours. */
export interface KnnMetricRow extends MetricRowBase {
  kind: 'knn';
  depth: (d: DepthInput) => number;
  compute: (m: KnnMetricInput) => number;
}

/** Recall@K: one value per K of `recallAtK`, keyed by K. */
export interface PerKMetricRow extends MetricRowBase {
  kind: 'perK';
  /** Label of one K ('R@4'). */
  labelAt: (K: number) => string;
  compute: (m: KnnMetricInput, K: number) => number;
}

/** A clustering metric: the true labels against the labels of a k-means with one cluster per class. */
export interface ClusteringMetricRow extends MetricRowBase {
  kind: 'clustering';
  compute: (trueLabels: ArrayLike<number>, clusterLabels: ArrayLike<number>) => number;
}

export type MetricRow = KnnMetricRow | PerKMetricRow | ClusteringMetricRow;

/** The table, in report order. */
export const METRICS = {
  precisionAt1: { kind: 'knn', label: 'P@1', higherIsBetter: true, byDefault: true, depth: () => 1, compute: (m) => precisionAt1(m.rr, m.perClass) },
  recallAtK: {
    kind: 'perK',
    label: 'R@K',
    labelAt: (K) => `R@${K}`,
    higherIsBetter: true,
    byDefault: true,
    compute: (m, K) => recallAtK(m.rr, Math.min(K, m.k), m.perClass),
  },
  rPrecision: { kind: 'knn', label: 'R-Precision', higherIsBetter: true, byDefault: true, depth: (d) => d.maxR, compute: (m) => rPrecision(m.rr, m.perClass) },
  mapAtR: { kind: 'knn', label: 'MAP@R', higherIsBetter: true, byDefault: true, depth: (d) => d.maxR, compute: (m) => mapAtR(m.rr, m.perClass) },
  mapAtK: {
    kind: 'knn',
    label: 'MAP@K',
    higherIsBetter: true,
    byDefault: false,
    depth: (d) => d.atK,
    compute: (m) => mapAtK(m.rr, Math.min(m.atK, m.k), m.perClass),
  },
  mrr: {
    kind: 'knn',
    label: 'MRR',
    higherIsBetter: true,
    byDefault: false,
    depth: (d) => d.atK,
    compute: (m) => meanReciprocalRank(m.rr, Math.min(m.atK, m.k), m.perClass),
  },
  nmi: { kind: 'clustering', label: 'NMI', higherIsBetter: true, byDefault: false, compute: normalizedMutualInformation },
  ami: { kind: 'clustering', label: 'AMI', higherIsBetter: true, byDefault: false, compute: adjustedMutualInformation },
} as const satisfies Record<string, MetricRow>;

export type RetrievalMetricName = keyof typeof METRICS;
type RowOf<K extends RetrievalMetricName> = (typeof METRICS)[K];
type NamesOfKind<Kind extends MetricRow['kind']> = { [K in RetrievalMetricName]: RowOf<K>['kind'] extends Kind ? K : never }[RetrievalMetricName];
export type ScalarMetricName = NamesOfKind<'knn' | 'clustering'>;

/** Metric values (fractions in [0, 1], not percentages). Absent when not requested. */
export type RetrievalMetrics = { [K in ScalarMetricName]?: number } & {
  /** Recall@K keyed by K. */
  recallAtK?: Record<number, number>;
};

export const METRIC_NAMES = Object.keys(METRICS) as [RetrievalMetricName, ...RetrievalMetricName[]];
export const DEFAULT_METRICS: readonly RetrievalMetricName[] = METRIC_NAMES.filter((n) => METRICS[n].byDefault);
/** The metrics computed only on request (the config's `evaluation.extraMetrics`). */
export const OPT_IN_METRICS = METRIC_NAMES.filter((n) => !METRICS[n].byDefault) as [RetrievalMetricName, ...RetrievalMetricName[]];

/** The row of a metric; unknown names throw, listing the known ones. */
export function metricRow(name: string, where = 'metric'): MetricRow {
  const row = (METRICS as Record<string, MetricRow | undefined>)[name];
  if (!row) throw new Error(`${where}: unknown metric '${name}' (known: ${METRIC_NAMES.join(', ')})`);
  return row;
}

/** Rows of one kind with their names, in table order. */
export function metricsOfKind<Kind extends MetricRow['kind']>(kind: Kind): [NamesOfKind<Kind>, Extract<MetricRow, { kind: Kind }>][] {
  return METRIC_NAMES.filter((n) => METRICS[n].kind === kind).map((n) => [n as NamesOfKind<Kind>, METRICS[n] as Extract<MetricRow, { kind: Kind }>]);
}

/** The present metrics as [label, fraction] rows in table order; R@1 is left out (it equals P@1). */
export function metricRows(r: RetrievalMetrics): [string, number][] {
  const rows: [string, number][] = [];
  for (const name of METRIC_NAMES) {
    const row: MetricRow = METRICS[name];
    if (row.kind === 'perK') {
      for (const [K, v] of Object.entries(r.recallAtK ?? {})) if (K !== '1') rows.push([row.labelAt(Number(K)), v]);
    } else {
      const v = r[name as ScalarMetricName];
      if (v !== undefined) rows.push([row.label, v]);
    }
  }
  return rows;
}

/** How every metric is shown: a percentage with two decimals ('-' when absent or NaN). */
export function formatMetric(v: number | undefined): string {
  return v === undefined || Number.isNaN(v) ? '-' : (100 * v).toFixed(2);
}
