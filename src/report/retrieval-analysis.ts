// Per-query and per-class retrieval quality of the test embeddings, and the queries the report shows: every
// query's AP@R and P@1 (the terms MAP@R and P@1 average), MAP@R per class, and the top-k neighbours with their
// distances of the worst and of randomly drawn queries.
import { tensor, tidy } from '../engine/index.js';
import { knn, normalizeEmbeddings, rankedRelevance, averagePrecisionAtR, type NormalizationMode } from '../evaluation/index.js';
import { Rng } from '../data/index.js';
import type { Embeddings } from '../training/embed.js';

export interface Neighbour {
  /** Row in the reference set (the gallery, or the queries in self-retrieval). */
  index: number;
  distance: number;
  hit: boolean;
}

export interface ShownQuery {
  index: number;
  label: number;
  apAtR: number;
  neighbours: Neighbour[];
}

export interface ClassScore {
  label: number;
  queries: number;
  mapAtR: number;
}

export interface RetrievalAnalysis {
  /** AP@R per query (NaN where the query has no same-class reference). */
  apAtR: Float64Array;
  /** 1 when the nearest reference shares the query's label. */
  hitAt1: Uint8Array;
  perClass: ClassScore[];
  worst: ShownQuery[];
  random: ShownQuery[];
}

export interface AnalysisOptions {
  normalization: NormalizationMode;
  /** Neighbours shown per query. */
  topK?: number;
  /** Queries shown in each of the worst and random rows. */
  shown?: number;
  seed?: number;
}

export function analyzeRetrieval(query: Embeddings, gallery: Embeddings | undefined, o: AnalysisOptions): RetrievalAnalysis {
  const topK = o.topK ?? 8;
  const shown = o.shown ?? 6;
  const self = gallery === undefined;
  const refLabels = gallery ? gallery.labels : query.labels;
  const Q = query.labels.length;
  const N = refLabels.length;
  const available = self ? N - 1 : N;
  if (available < 1) throw new Error(`the test split has ${N} reference item(s): nothing to retrieve`);
  const counts = new Map<number, number>();
  for (const l of refLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let maxR = 0;
  for (const l of query.labels) maxR = Math.max(maxR, (counts.get(l) ?? 0) - (self ? 1 : 0));
  const k = Math.min(available, Math.max(topK, maxR));
  const nn = tidy(() => {
    const q = normalizeEmbeddings(tensor(query.data, [Q, query.dim]), o.normalization);
    const r = gallery ? normalizeEmbeddings(tensor(gallery.data, [N, gallery.dim]), o.normalization) : null;
    return knn(q, r, { k, excludeSelf: self });
  });
  const rr = rankedRelevance(nn.indices, k, query.labels, refLabels, self);
  const apAtR = new Float64Array(Q);
  const hitAt1 = new Uint8Array(Q);
  for (let i = 0; i < Q; i++) {
    const R = rr.numRelevant[i]!;
    const row = rr.relevant.subarray(i * k, (i + 1) * k);
    apAtR[i] = R > 0 ? averagePrecisionAtR(row, R) : NaN;
    hitAt1[i] = row[0]!;
  }
  const sums = new Map<number, { n: number; sum: number }>();
  for (let i = 0; i < Q; i++) {
    if (Number.isNaN(apAtR[i])) continue;
    const s = sums.get(query.labels[i]!) ?? { n: 0, sum: 0 };
    s.n++;
    s.sum += apAtR[i]!;
    sums.set(query.labels[i]!, s);
  }
  const perClass = [...sums].map(([label, s]) => ({ label, queries: s.n, mapAtR: s.sum / s.n })).sort((a, b) => a.label - b.label);

  const show = (i: number): ShownQuery => ({
    index: i,
    label: query.labels[i]!,
    apAtR: apAtR[i]!,
    neighbours: Array.from({ length: Math.min(topK, k) }, (_, j) => ({
      index: nn.indices[i * k + j]!,
      distance: Number(nn.distances[i * k + j]!),
      hit: rr.relevant[i * k + j] === 1,
    })),
  });
  const evaluable = Array.from({ length: Q }, (_, i) => i).filter((i) => !Number.isNaN(apAtR[i]));
  // Worst first; ties (often many at AP@R = 0) by a wrong nearest neighbour, then by index.
  const worst = [...evaluable].sort((a, b) => apAtR[a]! - apAtR[b]! || hitAt1[a]! - hitAt1[b]! || a - b).slice(0, shown);
  const pool = evaluable.filter((i) => !worst.includes(i));
  new Rng(o.seed ?? 0).shuffle(pool);
  return {
    apAtR,
    hitAt1,
    perClass,
    worst: worst.map(show),
    random: pool
      .slice(0, shown)
      .sort((a, b) => a - b)
      .map(show),
  };
}
