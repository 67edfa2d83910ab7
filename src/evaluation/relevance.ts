// From neighbour indices and labels to the per-query relevance of each rank, plus R_q (the number of
// references that share the query's label, not counting the query itself in self-retrieval).
export interface RankedRelevance {
  numQueries: number;
  /** Ranks retrieved per query. */
  k: number;
  /** Row-major [numQueries, k]: 1 where the neighbour at that rank has the query's label. */
  relevant: Uint8Array;
  /** R_q per query. Queries with R_q = 0 are excluded from every metric. */
  numRelevant: Int32Array;
}

/**
 * R_q for every query: references with the query's label, minus one in self-retrieval (the query is its
 * own reference, excluded by index).
 */
export function relevantCounts(queryLabels: Int32Array, referenceLabels: Int32Array, selfRetrieval: boolean): Int32Array {
  if (selfRetrieval && queryLabels.length !== referenceLabels.length) {
    throw new Error(`relevantCounts: self-retrieval needs as many query labels as reference labels, got ${queryLabels.length} and ${referenceLabels.length}`);
  }
  const counts = new Map<number, number>();
  for (const l of referenceLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const out = new Int32Array(queryLabels.length);
  for (let i = 0; i < queryLabels.length; i++) out[i] = (counts.get(queryLabels[i]!) ?? 0) - (selfRetrieval ? 1 : 0);
  return out;
}

/** Relevance of the retrieved neighbours (`indices` row-major [numQueries, k]). */
export function rankedRelevance(indices: Int32Array, k: number, queryLabels: Int32Array, referenceLabels: Int32Array, selfRetrieval: boolean): RankedRelevance {
  const Q = queryLabels.length;
  if (!Number.isInteger(k) || k < 1) throw new Error(`rankedRelevance: k must be a positive integer, got ${k}`);
  if (indices.length !== Q * k) throw new Error(`rankedRelevance: indices has ${indices.length} entries, expected ${Q} queries x k=${k}`);
  const relevant = new Uint8Array(Q * k);
  for (let q = 0; q < Q; q++) {
    const label = queryLabels[q]!;
    for (let j = 0; j < k; j++) {
      const r = indices[q * k + j]!;
      if (r < 0 || r >= referenceLabels.length)
        throw new Error(`rankedRelevance: neighbour index ${r} (query ${q}) is outside the ${referenceLabels.length} reference labels`);
      if (selfRetrieval && r === q) throw new Error(`rankedRelevance: query ${q} retrieved itself although self-retrieval excludes it`);
      relevant[q * k + j] = referenceLabels[r] === label ? 1 : 0;
    }
  }
  return { numQueries: Q, k, relevant, numRelevant: relevantCounts(queryLabels, referenceLabels, selfRetrieval) };
}
