// kNN retrieval metrics (spec 5.3; PML's AccuracyCalculator definitions), computed from ranked relevance.
// Every metric is a plain mean over the queries with R_q > 0; the others are excluded (and counted by
// `evaluatedQueries`). With no evaluable query the value is NaN.
//   P@1        = share of queries whose nearest reference is relevant
//   Recall@K   = share of queries with at least one relevant reference among the top K (the DML-paper "R@K")
//   R-Precision = mean_q (#relevant among the top R_q) / R_q
//   MAP@R      = mean_q (1/R_q) sum_{i<=R_q} P(i) rel(i),  P(i) = precision among the top i
//   MAP@K      = mean_q (1/R_q) sum_{i<=K} P(i) rel(i)     (PML's mean_average_precision with k = K: divided
//                by R_q, not min(K, R_q))
//   MRR        = mean_q 1 / (rank of the first relevant reference within the top K), 0 when none
// Averaging: by default over the evaluated queries ("micro"). Given the query labels (`perClass`), the mean
// over the classes of each class's mean over its evaluated queries (PML's avg_of_avgs): every class counts
// the same however many queries it has.
import type { RankedRelevance } from './relevance.js';

/** Queries with R_q > 0 (the ones every metric averages over). */
export function evaluatedQueries(rr: RankedRelevance): number {
  let n = 0;
  for (const r of rr.numRelevant) if (r > 0) n++;
  return n;
}

function meanOverEvaluated(rr: RankedRelevance, perQuery: (row: number, rq: number) => number, perClass?: ArrayLike<number>): number {
  if (perClass !== undefined) {
    if (perClass.length !== rr.numQueries) throw new Error(`perClass: expected ${rr.numQueries} query labels, got ${perClass.length}`);
    const byClass = new Map<number, { sum: number; n: number }>();
    for (let q = 0; q < rr.numQueries; q++) {
      const rq = rr.numRelevant[q]!;
      if (rq <= 0) continue;
      const c = perClass[q]!;
      let e = byClass.get(c);
      if (!e) {
        e = { sum: 0, n: 0 };
        byClass.set(c, e);
      }
      e.sum += perQuery(q * rr.k, rq);
      e.n++;
    }
    if (byClass.size === 0) return NaN;
    let total = 0;
    for (const e of byClass.values()) total += e.sum / e.n;
    return total / byClass.size;
  }
  let sum = 0;
  let n = 0;
  for (let q = 0; q < rr.numQueries; q++) {
    const rq = rr.numRelevant[q]!;
    if (rq <= 0) continue;
    sum += perQuery(q * rr.k, rq);
    n++;
  }
  return n === 0 ? NaN : sum / n;
}

function needRanks(rr: RankedRelevance, what: string): void {
  let maxR = 0;
  for (const r of rr.numRelevant) if (r > maxR) maxR = r;
  if (rr.k < maxR) throw new Error(`${what}: needs k >= max R_q = ${maxR} ranks per query, got k = ${rr.k}`);
}

/** P@1 (reported as "R@1" in DML papers). */
export function precisionAt1(rr: RankedRelevance, perClass?: ArrayLike<number>): number {
  return meanOverEvaluated(rr, (row) => rr.relevant[row]!, perClass);
}

/** Recall@K: at least one relevant reference among the top K. */
export function recallAtK(rr: RankedRelevance, K: number, perClass?: ArrayLike<number>): number {
  if (!Number.isInteger(K) || K < 1) throw new Error(`recallAtK: K must be a positive integer, got ${K}`);
  if (K > rr.k) throw new Error(`recallAtK: K = ${K} exceeds the ${rr.k} ranks retrieved`);
  return meanOverEvaluated(
    rr,
    (row) => {
      for (let j = 0; j < K; j++) if (rr.relevant[row + j]) return 1;
      return 0;
    },
    perClass,
  );
}

/** R-Precision: relevant share of the top R_q. */
export function rPrecision(rr: RankedRelevance, perClass?: ArrayLike<number>): number {
  needRanks(rr, 'rPrecision');
  return meanOverEvaluated(
    rr,
    (row, rq) => {
      let hits = 0;
      for (let j = 0; j < rq; j++) hits += rr.relevant[row + j]!;
      return hits / rq;
    },
    perClass,
  );
}

/** Average precision at R for one ranked relevance row (rel[0..R-1]), divided by R. */
export function averagePrecisionAtR(relevant: ArrayLike<number>, R: number): number {
  if (!Number.isInteger(R) || R < 1) throw new Error(`averagePrecisionAtR: R must be a positive integer, got ${R}`);
  if (relevant.length < R) throw new Error(`averagePrecisionAtR: needs ${R} ranks, got ${relevant.length}`);
  return sumPrecisions(relevant, 0, R) / R;
}

/** MAP@R (Musgrave et al. 2020): the mean over queries of averagePrecisionAtR on each query's first R_q ranks. */
export function mapAtR(rr: RankedRelevance, perClass?: ArrayLike<number>): number {
  needRanks(rr, 'mapAtR');
  return meanOverEvaluated(rr, (row, rq) => sumPrecisions(rr.relevant, row, rq) / rq, perClass);
}

/** sum_{i < n} P(i + 1) rel(i) over one query's ranks starting at `row`. */
function sumPrecisions(relevant: ArrayLike<number>, row: number, n: number): number {
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (relevant[row + i]) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum;
}

function checkK(rr: RankedRelevance, K: number, what: string): void {
  if (!Number.isInteger(K) || K < 1) throw new Error(`${what}: K must be a positive integer, got ${K}`);
  if (K > rr.k) throw new Error(`${what}: K = ${K} exceeds the ${rr.k} ranks retrieved`);
}

/** MAP@K (PML's mean_average_precision with k = K): precision sums over the top K, divided by R_q. */
export function mapAtK(rr: RankedRelevance, K: number, perClass?: ArrayLike<number>): number {
  checkK(rr, K, 'mapAtK');
  return meanOverEvaluated(rr, (row, rq) => sumPrecisions(rr.relevant, row, K) / rq, perClass);
}

/** Mean reciprocal rank of the first relevant reference within the top K (0 when there is none). */
export function meanReciprocalRank(rr: RankedRelevance, K: number = rr.k, perClass?: ArrayLike<number>): number {
  checkK(rr, K, 'meanReciprocalRank');
  return meanOverEvaluated(
    rr,
    (row) => {
      for (let j = 0; j < K; j++) if (rr.relevant[row + j]) return 1 / (j + 1);
      return 0;
    },
    perClass,
  );
}
