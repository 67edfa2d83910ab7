// kNN retrieval metrics (spec 5.3; PML's AccuracyCalculator definitions), computed from ranked relevance.
// Every metric is a plain mean over the queries with R_q > 0; the others are excluded (and counted by
// `evaluatedQueries`). With no evaluable query the value is NaN.
//   P@1        = share of queries whose nearest reference is relevant
//   Recall@K   = share of queries with at least one relevant reference among the top K (the DML-paper "R@K")
//   R-Precision = mean_q (#relevant among the top R_q) / R_q
//   MAP@R      = mean_q (1/R_q) sum_{i<=R_q} P(i) rel(i),  P(i) = precision among the top i
import type { RankedRelevance } from './relevance.js';

/** Queries with R_q > 0 (the ones every metric averages over). */
export function evaluatedQueries(rr: RankedRelevance): number {
  let n = 0;
  for (const r of rr.numRelevant) if (r > 0) n++;
  return n;
}

function meanOverEvaluated(rr: RankedRelevance, perQuery: (row: number, rq: number) => number): number {
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
export function precisionAt1(rr: RankedRelevance): number {
  return meanOverEvaluated(rr, (row) => rr.relevant[row]!);
}

/** Recall@K: at least one relevant reference among the top K. */
export function recallAtK(rr: RankedRelevance, K: number): number {
  if (!Number.isInteger(K) || K < 1) throw new Error(`recallAtK: K must be a positive integer, got ${K}`);
  if (K > rr.k) throw new Error(`recallAtK: K = ${K} exceeds the ${rr.k} ranks retrieved`);
  return meanOverEvaluated(rr, (row) => {
    for (let j = 0; j < K; j++) if (rr.relevant[row + j]) return 1;
    return 0;
  });
}

/** R-Precision: relevant share of the top R_q. */
export function rPrecision(rr: RankedRelevance): number {
  needRanks(rr, 'rPrecision');
  return meanOverEvaluated(rr, (row, rq) => {
    let hits = 0;
    for (let j = 0; j < rq; j++) hits += rr.relevant[row + j]!;
    return hits / rq;
  });
}

/** Average precision at R for one ranked relevance row (rel[0..R-1]), divided by R. */
export function averagePrecisionAtR(relevant: ArrayLike<number>, R: number): number {
  if (!Number.isInteger(R) || R < 1) throw new Error(`averagePrecisionAtR: R must be a positive integer, got ${R}`);
  if (relevant.length < R) throw new Error(`averagePrecisionAtR: needs ${R} ranks, got ${relevant.length}`);
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < R; i++) {
    if (relevant[i]) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum / R;
}

/** MAP@R (Musgrave et al. 2020). */
export function mapAtR(rr: RankedRelevance): number {
  needRanks(rr, 'mapAtR');
  return meanOverEvaluated(rr, (row, rq) => {
    let hits = 0;
    let sum = 0;
    for (let i = 0; i < rq; i++) {
      if (rr.relevant[row + i]) {
        hits++;
        sum += hits / (i + 1);
      }
    }
    return sum / rq;
  });
}
