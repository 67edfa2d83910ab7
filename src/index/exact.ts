// Exact Euclidean distances for the re-rank of approximate candidates. The distance is the norm of the
// difference, accumulated in double precision, never ||q||^2 - 2<q,v> + ||v||^2: that expansion loses the
// small differences to cancellation, and an identical vector must come back at distance exactly 0.

/** ||q - v|| for row `row` of a row-major matrix with `dim` columns; q starts at `qOff` of its array. */
export function rowDistance(q: Float32Array, rows: Float32Array, row: number, dim: number, qOff = 0): number {
  let s = 0;
  const off = row * dim;
  for (let j = 0; j < dim; j++) {
    const d = q[qOff + j]! - rows[off + j]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

export interface RowHit {
  row: number;
  distance: number;
}

/** The k rows nearest to q among `rowIds` (ascending distance, ties by row id). */
export function nearestRows(q: Float32Array, rows: Float32Array, dim: number, rowIds: Iterable<number>, k: number): RowHit[] {
  const top = new TopK(k);
  for (const r of rowIds) top.offer(r, rowDistance(q, rows, r, dim));
  return top.sorted();
}

/**
 * The re-rank of one query's graph candidates: `keys[from, from + count)` are row numbers (usearch's
 * BigUint64 keys), q is row `qi` of `queries`. Only the k best survive, so no object per candidate.
 */
export function rerankCandidates(
  queries: Float32Array,
  qi: number,
  rows: Float32Array,
  dim: number,
  keys: BigUint64Array,
  from: number,
  count: number,
  k: number,
): RowHit[] {
  const top = new TopK(k);
  for (let c = from; c < from + count; c++) {
    const row = Number(keys[c]!);
    top.offer(row, rowDistance(queries, rows, row, dim, qi * dim));
  }
  return top.sorted();
}

/** The k smallest (distance, row) pairs seen, kept sorted by insertion (k is small: tens). */
class TopK {
  private readonly rows: number[] = [];
  private readonly dists: number[] = [];

  constructor(private readonly k: number) {}

  offer(row: number, distance: number): void {
    const n = this.rows.length;
    if (n === this.k && !before(distance, row, this.dists[n - 1]!, this.rows[n - 1]!)) return;
    let i = n === this.k ? n - 1 : n;
    while (i > 0 && before(distance, row, this.dists[i - 1]!, this.rows[i - 1]!)) {
      this.dists[i] = this.dists[i - 1]!;
      this.rows[i] = this.rows[i - 1]!;
      i--;
    }
    this.dists[i] = distance;
    this.rows[i] = row;
  }

  sorted(): RowHit[] {
    return this.rows.map((row, i) => ({ row, distance: this.dists[i]! }));
  }
}

function before(d: number, r: number, d2: number, r2: number): boolean {
  return d < d2 || (d === d2 && r < r2);
}
