// Plain-text tables of retrieval metrics for the terminal (rows, labels and formatting from the metrics table).
import { formatMetric, metricRows, type RetrievalResult } from '../evaluation/index.js';

export function formatMetrics(r: RetrievalResult): string {
  const lines = metricRows(r).map(([k, v]) => `  ${k.padEnd(12)} ${formatMetric(v)}`);
  if (r.numExcluded) lines.push(`  (${r.numExcluded} queries without a same-class reference left out)`);
  return lines.join('\n');
}
