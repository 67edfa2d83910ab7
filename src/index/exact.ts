// Exact Euclidean distances for the re-rank of approximate candidates. The distance is the norm of the
// difference, accumulated in double precision, never ||q||^2 - 2<q,v> + ||v||^2: that expansion loses the
// small differences to cancellation, and an identical vector must come back at distance exactly 0.

/** ||q - v|| for row `row` of a row-major matrix with `dim` columns. */
export function rowDistance(q: Float32Array, rows: Float32Array, row: number, dim: number): number {
  let s = 0;
  const off = row * dim;
  for (let j = 0; j < dim; j++) {
    const d = q[j]! - rows[off + j]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** The k rows nearest to q among `rowIds` (ascending distance, ties by row id). */
export function nearestRows(q: Float32Array, rows: Float32Array, dim: number, rowIds: Iterable<number>, k: number): { row: number; distance: number }[] {
  const all: { row: number; distance: number }[] = [];
  for (const r of rowIds) all.push({ row: r, distance: rowDistance(q, rows, r, dim) });
  all.sort((a, b) => a.distance - b.distance || a.row - b.row);
  return all.slice(0, k);
}
