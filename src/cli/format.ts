// Plain-text tables of retrieval metrics for the terminal (rows, labels and formatting from the metrics table).
// The metrics table directly, not the evaluation barrel: that one loads the engine (and the native addon),
// which --help and --version must not.
import type { RetrievalResult } from '../evaluation/evaluate.js';
import { formatMetric, metricRows } from '../evaluation/metric-table.js';

export function formatMetrics(r: RetrievalResult): string {
  const lines = metricRows(r).map(([k, v]) => `  ${k.padEnd(12)} ${formatMetric(v)}`);
  if (r.numExcluded) lines.push(`  (${r.numExcluded} queries without a same-class reference left out)`);
  return lines.join('\n');
}
