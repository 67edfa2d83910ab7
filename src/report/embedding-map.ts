// The 2-D map of the test embeddings: UMAP (umap-js) of a seeded, class-stratified sample of the N(v)-normalised
// embeddings, with the class proxies (CCP) placed on the same map by UMAP's transform of new points.
import { UMAP } from 'umap-js';
import { tensor, tidy } from '../engine/index.js';
import { normalizeEmbeddings, type NormalizationMode } from '../evaluation/index.js';
import { Rng } from '../data/index.js';
import type { Embeddings } from '../training/embed.js';

export interface MapPoint {
  x: number;
  y: number;
  label: number;
}

export interface EmbeddingMap {
  points: MapPoint[];
  /** Proxies on the map (empty for runs without proxies). */
  proxies: MapPoint[];
  /** Embeddings in the split, of which `points.length` are mapped. */
  total: number;
}

export interface ProxyRows {
  /** Row-major [rows, dim]. */
  data: Float32Array;
  dim: number;
  labels: Int32Array;
}

/** At most `max` row indices, the same share of every class, drawn with a seeded generator (sorted). */
export function stratifiedSample(labels: Int32Array, max: number, seed: number): number[] {
  const n = labels.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => (byClass.get(l) ?? byClass.set(l, []).get(l)!).push(i));
  const out: number[] = [];
  for (const rows of byClass.values()) {
    rng.shuffle(rows);
    out.push(...rows.slice(0, Math.max(1, Math.round((rows.length * max) / n))));
  }
  return out.sort((a, b) => a - b);
}

function rowsOf(data: Float32Array, dim: number, idx: readonly number[], mode: NormalizationMode): number[][] {
  const flat = tidy(() => {
    const sel = new Float32Array(idx.length * dim);
    idx.forEach((r, i) => sel.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
    return normalizeEmbeddings(tensor(sel, [idx.length, dim]), mode).toFloat32Array();
  });
  return idx.map((_, i) => Array.from(flat.subarray(i * dim, (i + 1) * dim)));
}

export function embeddingMap(e: Embeddings, o: { normalization: NormalizationMode; proxies?: ProxyRows; maxPoints?: number; seed?: number }): EmbeddingMap {
  const idx = stratifiedSample(e.labels, o.maxPoints ?? 2000, o.seed ?? 0);
  if (idx.length < 3) return { points: [], proxies: [], total: e.labels.length };
  const rng = new Rng(o.seed ?? 0);
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, idx.length - 1), minDist: 0.1, random: () => rng.next() });
  const xy = umap.fit(rowsOf(e.data, e.dim, idx, o.normalization));
  const points = xy.map(([x, y], i) => ({ x: x!, y: y!, label: e.labels[idx[i]!]! }));
  let proxies: MapPoint[] = [];
  if (o.proxies && o.proxies.dim === e.dim && o.proxies.labels.length) {
    const p = o.proxies;
    const pxy = umap.transform(
      rowsOf(
        p.data,
        p.dim,
        Array.from(p.labels, (_, i) => i),
        o.normalization,
      ),
    );
    proxies = pxy.map(([x, y], i) => ({ x: x!, y: y!, label: p.labels[i]! }));
  }
  return { points, proxies, total: e.labels.length };
}
