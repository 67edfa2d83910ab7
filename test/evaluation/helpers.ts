// Test helpers for src/evaluation: a seeded generator, clustered random data, an independent brute-force
// retrieval evaluator in plain JS (no engine: float64, a full sort per query), and fixture loading.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/engine/random.js';

/** The library's seeded generator (mulberry32). */
export const rng: (seed: number) => () => number = mulberry32;

export function gaussian(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** n points in `dim` dimensions around `classes` random centres; labels uniform over the classes. */
export function clustered(
  seed: number,
  n: number,
  dim: number,
  classes: number,
  spread = 0.8,
): { data: Float32Array; labels: Int32Array; shape: [number, number] } {
  const r = rng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => gaussian(r)));
  const data = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * classes);
    labels[i] = c;
    for (let j = 0; j < dim; j++) data[i * dim + j] = centres[c]![j]! + spread * gaussian(r);
  }
  return { data, labels, shape: [n, dim] };
}

export function lipschitzRows(data: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += data[i * d + j]! ** 2;
    const scale = Math.sqrt(s) > 1 ? 1 / Math.sqrt(s) : 1;
    for (let j = 0; j < d; j++) out[i * d + j] = data[i * d + j]! * scale;
  }
  return out;
}

/** Full ranking of every query by (squared distance, reference index); self excluded by index. */
export function bruteForceRanking(q: ArrayLike<number>, nq: number, r: ArrayLike<number>, nr: number, d: number, self: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const dist: { j: number; v: number }[] = [];
    for (let j = 0; j < nr; j++) {
      if (self && j === i) continue;
      let s = 0;
      for (let t = 0; t < d; t++) s += (q[i * d + t]! - r[j * d + t]!) ** 2;
      dist.push({ j, v: s });
    }
    dist.sort((a, b) => a.v - b.v || a.j - b.j);
    out.push(dist.map((e) => e.j));
  }
  return out;
}

export interface BruteMetrics {
  precisionAt1: number;
  recallAtK: Record<number, number>;
  rPrecision: number;
  mapAtR: number;
  numEvaluated: number;
  numExcluded: number;
}

/** Metrics straight from their definitions over full rankings. */
export function bruteForceMetrics(ranking: number[][], ql: ArrayLike<number>, rl: ArrayLike<number>, ks: number[]): BruteMetrics {
  let p1 = 0,
    rp = 0,
    map = 0,
    n = 0;
  const rec: Record<number, number> = Object.fromEntries(ks.map((K) => [K, 0]));
  ranking.forEach((order, i) => {
    const rel = order.map((j) => (rl[j] === ql[i] ? 1 : 0));
    const R = rel.reduce((a: number, b) => a + b, 0);
    if (R === 0) return;
    n++;
    p1 += rel[0]!;
    for (const K of ks) rec[K]! += rel.slice(0, K).some((x) => x === 1) ? 1 : 0;
    rp += rel.slice(0, R).reduce((a: number, b) => a + b, 0) / R;
    let ap = 0;
    for (let k = 1; k <= R; k++) {
      if (!rel[k - 1]) continue;
      const precK = rel.slice(0, k).reduce((a: number, b) => a + b, 0) / k;
      ap += precK;
    }
    map += ap / R;
  });
  for (const K of ks) rec[K] = rec[K]! / n;
  return { precisionAt1: p1 / n, recallAtK: rec, rPrecision: rp / n, mapAtR: map / n, numEvaluated: n, numExcluded: ranking.length - n };
}

/** Reads test/fixtures/evaluation/<name> from the repository (tests run from dist/). */
export function readFixture<T = unknown>(name: string): T {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'test', 'fixtures', 'evaluation', name);
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as T;
    dir = dirname(dir);
  }
  throw new Error(`fixture test/fixtures/evaluation/${name} not found`);
}
