// Plain-text tables of retrieval metrics for the terminal.
import type { RetrievalResult } from '../evaluation/index.js';

/** The reported metrics as [name, fraction] rows, in table order. */
export function metricRows(r: RetrievalResult): [string, number][] {
  const rows: [string, number][] = [];
  if (r.precisionAt1 !== undefined) rows.push(['P@1', r.precisionAt1]);
  for (const [k, v] of Object.entries(r.recallAtK ?? {})) if (k !== '1') rows.push([`R@${k}`, v]);
  if (r.rPrecision !== undefined) rows.push(['R-Precision', r.rPrecision]);
  if (r.mapAtR !== undefined) rows.push(['MAP@R', r.mapAtR]);
  if (r.mapAtK !== undefined) rows.push(['MAP@K', r.mapAtK]);
  if (r.mrr !== undefined) rows.push(['MRR', r.mrr]);
  if (r.nmi !== undefined) rows.push(['NMI', r.nmi]);
  if (r.ami !== undefined) rows.push(['AMI', r.ami]);
  return rows;
}

export function formatMetrics(r: RetrievalResult): string {
  const rows = metricRows(r);
  const lines = rows.map(([k, v]) => `  ${k.padEnd(12)} ${(100 * v).toFixed(2)}`);
  if (r.numExcluded) lines.push(`  (${r.numExcluded} queries without a same-class reference left out)`);
  return lines.join('\n');
}
