// Index benchmark: our index (usearch HNSW + float32 exact re-rank, VectorIndex) against exact search
// (the engine's chunked matmul + top-k, all queries at once) and hnswlib-node, on
//   1. N synthetic 128-d vectors (default 1,000,000: a mixture of 1,000 Gaussian clusters; queries are fresh
//      draws from the same mixture),
//   2. the embeddings of a real test split (Omniglot's evaluation alphabets through a run's model:
//      BENCH_INDEX_RUN=<run folder>, or a small CNN with random weights when unset).
// Reported: build time, memory (RSS growth), queries/s, recall@10 against exact kNN.
// Env: BENCH_INDEX_N (synthetic size), BENCH_INDEX_QUERIES (default 1000), BENCH_HNSWLIB_MAX (largest N
// given to hnswlib-node, default 200,000: it inserts one vector at a time from JS).
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { knn } from '../src/evaluation/index.js';
import { manualSeed, setNumThreads } from '../src/engine/index.js';
import { VectorIndex, RunEmbedder, type ModelIdentity } from '../src/index/index.js';
import { loadRun } from '../src/training/run-files.js';
import { parseRunConfig } from '../src/training/config.js';
import { buildModel } from '../src/training/build.js';
import { loadOmniglot, outputShape } from '../src/data/index.js';
import { transformFor } from '../src/training/data-setup.js';
import { formatTable, nowMs, statusKB, writeResults } from './common/index.js';
import { seededRandom } from '../src/engine/testing/index.js';

const N = Number(process.env.BENCH_INDEX_N ?? 1_000_000);
const Q = Number(process.env.BENCH_INDEX_QUERIES ?? 1000);
const HNSWLIB_MAX = Number(process.env.BENCH_HNSWLIB_MAX ?? 200_000);
const K = 10;
// Candidates per query (= the graph search's list size, ef) swept for ours; ef for hnswlib-node.
const CANDIDATES = [10, 16, 24, 32, 64];
const threads = cpus().length;
setNumThreads(threads);

function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function mixture(n: number, dim: number, centres: Float32Array, seed: number): Float32Array {
  const g = gaussian(seededRandom(seed));
  const r = seededRandom(seed + 1);
  const c = centres.length / dim;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * c);
    for (let j = 0; j < dim; j++) out[i * dim + j] = centres[k * dim + j]! + 0.35 * g();
  }
  return out;
}

interface Row {
  data: string;
  method: string;
  n: number;
  buildS: number;
  memMB: number;
  qps: number;
  recall: number;
  speedup: number;
}

function recallAt(found: number[][], truth: Int32Array): number {
  let hit = 0;
  found.forEach((f, i) => {
    const want = new Set(Array.from(truth.subarray(i * K, (i + 1) * K)));
    hit += f.slice(0, K).filter((x) => want.has(x)).length;
  });
  return hit / (found.length * K);
}

const BENCH_MODEL: ModelIdentity = { hash: 'bench', name: 'bench', dim: 0, normalization: 'none', run: 'bench' };

async function compare(label: string, base: Float32Array, queries: Float32Array, dim: number, tmp: string): Promise<Row[]> {
  const n = base.length / dim;
  const q = queries.length / dim;
  const rows: Row[] = [];
  // Each row is printed as it is measured (a long run that is stopped early still shows what it measured).
  const push = (r: Row) => {
    rows.push(r);
    console.log(JSON.stringify(r));
  };
  // Exact: all queries in one call (the engine chunks them), as a user of exact search would batch them.
  const t0 = nowMs();
  const exact = knn({ data: queries, shape: [q, dim] }, { data: base, shape: [n, dim] }, { k: K });
  const exactS = (nowMs() - t0) / 1000;
  const exactQps = q / exactS;
  push({ data: label, method: 'exact (engine matmul + top-k, batched)', n, buildS: 0, memMB: 0, qps: exactQps, recall: 1, speedup: 1 });

  // Ours.
  global.gc?.();
  const rss0 = statusKB('VmRSS');
  const t1 = nowMs();
  const index = VectorIndex.create(join(tmp, `${label.replace(/\W/g, '_')}.index`), { dim, model: { ...BENCH_MODEL, dim } });
  const batch = 100_000;
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    index.add(
      Array.from({ length: e - s }, (_, i) => ({ id: String(s + i), path: null, label: null })),
      base.subarray(s * dim, e * dim),
      { threads },
    );
  }
  const buildS = (nowMs() - t1) / 1000;
  console.log(`${label}: ours built in ${buildS.toFixed(1)} s`);
  const memMB = (statusKB('VmRSS') - rss0) / 1024;
  for (const candidates of CANDIDATES) {
    const found: number[][] = [];
    const t2 = nowMs();
    for (let i = 0; i < q; i++) found.push(index.search(queries.subarray(i * dim, (i + 1) * dim), { k: K, candidates }).map((r) => Number(r.id)));
    const qps = q / ((nowMs() - t2) / 1000);
    push({
      data: label,
      method: `ours: HNSW ${candidates} candidates + exact re-rank (1 query/call)`,
      n,
      buildS,
      memMB,
      qps,
      recall: recallAt(found, exact.indices),
      speedup: qps / exactQps,
    });
  }
  for (const candidates of CANDIDATES) {
    const t2 = nowMs();
    const found = index.searchBatch(queries, { k: K, candidates, threads }).map((hits) => hits.map((r) => Number(r.id)));
    const qps = q / ((nowMs() - t2) / 1000);
    push({
      data: label,
      method: `ours: HNSW ${candidates} candidates + exact re-rank (all queries in 1 call)`,
      n,
      buildS,
      memMB,
      qps,
      recall: recallAt(found, exact.indices),
      speedup: qps / exactQps,
    });
  }
  const t3 = nowMs();
  index.save({ snapshot: true });
  console.log(`${label}: saving the index took ${((nowMs() - t3) / 1000).toFixed(1)} s`);
  index.close();

  // hnswlib-node (same M and construction list), where it is installed and the size is within reach.
  let hnsw:
    | {
        HierarchicalNSW: new (
          space: string,
          dim: number,
        ) => {
          initIndex(n: number, m: number, ef: number, seed: number): void;
          addPoint(v: Float32Array | number[], label: number): void;
          setEf(ef: number): void;
          searchKnn(v: Float32Array | number[], k: number): { neighbors: number[] };
        };
      }
    | undefined;
  try {
    hnsw = createRequire(import.meta.url)('hnswlib-node');
  } catch {
    console.log('hnswlib-node is not installed: its rows are left out');
  }
  if (hnsw && n <= HNSWLIB_MAX) {
    global.gc?.();
    const r0 = statusKB('VmRSS');
    const t4 = nowMs();
    const h = new hnsw.HierarchicalNSW('l2', dim);
    h.initIndex(n, 16, 128, 100);
    for (let i = 0; i < n; i++) h.addPoint(Array.from(base.subarray(i * dim, (i + 1) * dim)), i); // it takes plain arrays
    const hb = (nowMs() - t4) / 1000;
    const hm = (statusKB('VmRSS') - r0) / 1024;
    for (const ef of CANDIDATES) {
      h.setEf(Math.max(ef, K));
      const found: number[][] = [];
      const t5 = nowMs();
      for (let i = 0; i < q; i++) found.push(h.searchKnn(Array.from(queries.subarray(i * dim, (i + 1) * dim)), K).neighbors);
      const qps = q / ((nowMs() - t5) / 1000);
      push({
        data: label,
        method: `hnswlib-node ef ${ef} (1 query/call)`,
        n,
        buildS: hb,
        memMB: hm,
        qps,
        recall: recallAt(found, exact.indices),
        speedup: qps / exactQps,
      });
    }
  } else if (hnsw) console.log(`${label}: hnswlib-node left out above ${HNSWLIB_MAX} vectors (BENCH_HNSWLIB_MAX)`);
  return rows;
}

async function realEmbeddings(): Promise<{ label: string; data: Float32Array; dim: number } | undefined> {
  const root = resolve('../shared/data/omniglot');
  if (!existsSync(join(root, 'images_evaluation.zip'))) {
    console.log(`real split left out: no Omniglot at ${root}`);
    return undefined;
  }
  const runDir = process.env.BENCH_INDEX_RUN;
  let embedder: RunEmbedder;
  if (runDir) {
    const { config, model } = loadRun(runDir);
    embedder = new RunEmbedder(config, model);
  } else {
    manualSeed(0);
    const config = parseRunConfig({ dataset: { name: 'omniglot', root, imageSize: 28 }, model: { name: 'small_cnn', embeddingDim: 128 } });
    embedder = new RunEmbedder(config, buildModel(config, outputShape(transformFor(config.dataset))));
  }
  const test = await loadOmniglot({ root, set: 'evaluation' });
  const t0 = nowMs();
  const data = await embedder.embedDataset(test);
  console.log(
    `embedded ${test.size} Omniglot test images in ${((nowMs() - t0) / 1000).toFixed(1)} s (${runDir ? `run ${runDir}` : 'small CNN, random weights'})`,
  );
  return { label: `Omniglot test split (${test.size} x ${embedder.dim})`, data, dim: embedder.dim };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'ccp-bench-index-'));
  const rows: Row[] = [];
  try {
    const dim = 128;
    const centres = mixture(1000, dim, new Float32Array(1000 * dim), 1); // cluster centres ~ N(0, 0.35^2)
    for (let i = 0; i < centres.length; i++) centres[i]! *= 3;
    const base = mixture(N, dim, centres, 2);
    const queries = mixture(Q, dim, centres, 3);
    rows.push(...(await compare(`synthetic ${N} x ${dim}`, base, queries, dim, tmp)));
    const real = await realEmbeddings();
    if (real) {
      // Leave-out queries: the last Q embeddings query the rest.
      const n = real.data.length / real.dim;
      const q = Math.min(Q, Math.floor(n / 10));
      rows.push(...(await compare(real.label, real.data.subarray(0, (n - q) * real.dim), real.data.subarray((n - q) * real.dim), real.dim, tmp)));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\nk = ${K}, ${Q} queries, ${threads} threads (build, exact search and the batched rows use all; '1 query/call' rows run one query at a time)`);
  console.log(
    formatTable(
      ['data', 'method', 'N', 'build s', 'memory MB', 'queries/s', 'recall@10', 'x exact q/s'],
      rows.map((r) => [r.data, r.method, r.n, r.buildS, r.memMB, r.qps, r.recall, r.speedup]),
    ),
  );
  writeResults('bench/results/index.json', { date: new Date().toISOString(), threads, k: K, queries: Q, rows });
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
