// Evaluation benchmark: MAP@R + P@1 (self-retrieval, exact chunked kNN) on random 128-D embeddings with
// SOP-like classes (2..8 images, ~5 per class), ours vs Python PyTorch (bench/python/eval_bench.py run with
// /usr/bin/python3) on the same data, same thread count, same chunk size, in the same run. Each measurement
// is a fresh process (so that its peak RSS, VmHWM, is its own); ours and PyTorch alternate.
//
//   npm run bench:eval                       # 10k, 30k, 60k
//   node dist/bench/eval.bench.js --sizes 10000,30000 --reps 3
// Writes bench/results/eval.json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/engine/random.js';
import { statusKB } from './common/index.js';

const DIM = 128;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Run {
  ms: number;
  mapAtR: number;
  precisionAt1: number;
  k: number;
  hwmKB: number;
  baseKB: number;
  chunk?: number;
  tieFallbackRows?: number;
}

async function worker(dir: string, n: number, chunk: number): Promise<void> {
  const { evaluateRetrieval } = await import('../src/evaluation/index.js');
  const { getNumThreads } = await import('../src/engine/index.js');
  const buf = readFileSync(join(dir, 'emb.f32'));
  const emb = new Float32Array(buf.buffer, buf.byteOffset, n * DIM);
  const lb = readFileSync(join(dir, 'labels.i32'));
  const labels = new Int32Array(lb.buffer, lb.byteOffset, n);
  const opts = { metrics: ['precisionAt1', 'mapAtR'] as const, memoryBudgetBytes: undefined };
  // warm-up on a small slice, then the timed run
  evaluateRetrieval({ queries: { data: emb.subarray(0, 2000 * DIM), shape: [2000, DIM] }, queryLabels: labels.subarray(0, 2000), ...opts });
  const base = statusKB('VmRSS');
  const t0 = performance.now();
  const res = evaluateRetrieval({ queries: { data: emb, shape: [n, DIM] }, queryLabels: labels, ...opts });
  const ms = performance.now() - t0;
  const out: Run = { ms, mapAtR: res.mapAtR!, precisionAt1: res.precisionAt1!, k: res.k, hwmKB: statusKB('VmHWM'), baseKB: base, chunk };
  process.stdout.write(JSON.stringify({ ...out, threads: getNumThreads() }) + '\n');
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

/** n embeddings: classes of 2..8 members (mean 5, like SOP), centre + noise, rows shuffled. */
function makeData(n: number, seed: number): { emb: Float32Array; labels: Int32Array; classes: number } {
  const r = mulberry32(seed);
  const labels = new Int32Array(n);
  let i = 0;
  let c = 0;
  while (i < n) {
    const size = Math.min(n - i, 2 + Math.floor(r() * 7));
    labels.fill(c, i, i + size);
    i += size;
    c++;
  }
  if (n >= 2 && labels[n - 1] !== labels[n - 2]) labels[n - 1] = labels[n - 2]!; // no trailing singleton
  const centres = new Float32Array(c * DIM);
  for (let j = 0; j < centres.length; j++) centres[j] = gaussian(r);
  const order = Array.from({ length: n }, (_, j) => j);
  for (let j = n - 1; j > 0; j--) {
    const t = Math.floor(r() * (j + 1));
    [order[j], order[t]] = [order[t]!, order[j]!];
  }
  const emb = new Float32Array(n * DIM);
  const shuffled = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const src = order[j]!;
    const l = labels[src]!;
    shuffled[j] = l;
    for (let d = 0; d < DIM; d++) emb[j * DIM + d] = centres[l * DIM + d]! + 1.3 * gaussian(r);
  }
  return { emb, labels: shuffled, classes: c };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--worker') {
    await worker(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
    return;
  }
  const { knnChunkSize } = await import('../src/evaluation/index.js');
  const sizes = (arg('--sizes') ?? '10000,30000,60000').split(',').map(Number);
  const repsArg = arg('--reps');
  const threads = Number(process.env.CCP_DML_THREADS ?? availableParallelism());
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  const self = fileURLToPath(import.meta.url);
  const rows: Record<string, unknown>[] = [];
  console.log(`eval bench: dim ${DIM}, ${threads} threads, ${cpus()[0]?.model ?? 'cpu'}; MAP@R + P@1, self-retrieval, exact kNN`);
  console.log('   n   classes    k  chunk   ours ms  torch ms  ours/torch   ours peak MB  torch peak MB   MAP@R ours / torch    P@1 ours / torch');
  for (const n of sizes) {
    const reps = repsArg ? Number(repsArg) : n <= 10000 ? 3 : n <= 30000 ? 2 : 1;
    const { emb, labels, classes } = makeData(n, 1000 + n);
    const dir = mkdtempSync(join(tmpdir(), 'ccp-eval-bench-'));
    writeFileSync(join(dir, 'emb.f32'), Buffer.from(emb.buffer, emb.byteOffset, emb.byteLength));
    writeFileSync(join(dir, 'labels.i32'), Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
    let maxR = 0;
    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    for (const v of counts.values()) maxR = Math.max(maxR, v - 1);
    const chunk = knnChunkSize(n, n, maxR);
    const ours: Run[] = [];
    const torch: Run[] = [];
    const env = { ...process.env, CCP_DML_THREADS: String(threads) };
    for (let rep = 0; rep < reps; rep++) {
      ours.push(
        JSON.parse(
          execFileSync(process.execPath, [self, '--worker', dir, String(n), String(chunk)], { env, maxBuffer: 1 << 20 })
            .toString()
            .trim()
            .split('\n')
            .pop()!,
        ),
      );
      torch.push(
        JSON.parse(
          execFileSync(python, [join(ROOT, 'bench', 'python', 'eval_bench.py'), dir, String(n), String(DIM), String(threads), String(chunk)], {
            env,
            maxBuffer: 1 << 20,
          })
            .toString()
            .trim()
            .split('\n')
            .pop()!,
        ),
      );
    }
    rmSync(dir, { recursive: true, force: true });
    const o = median(ours.map((x) => x.ms));
    const t = median(torch.map((x) => x.ms));
    const oPeak = Math.max(...ours.map((x) => x.hwmKB)) / 1024;
    const tPeak = Math.max(...torch.map((x) => x.hwmKB)) / 1024;
    const row = {
      n,
      classes,
      k: ours[0]!.k,
      chunk,
      reps,
      oursMs: o,
      torchMs: t,
      ratio: o / t,
      oursPeakMB: oPeak,
      torchPeakMB: tPeak,
      oursBaseMB: Math.max(...ours.map((x) => x.baseKB)) / 1024,
      torchBaseMB: Math.max(...torch.map((x) => x.baseKB)) / 1024,
      oursMsAll: ours.map((x) => x.ms),
      torchMsAll: torch.map((x) => x.ms),
      mapAtR: { ours: ours[0]!.mapAtR, torch: torch[0]!.mapAtR },
      precisionAt1: { ours: ours[0]!.precisionAt1, torch: torch[0]!.precisionAt1 },
    };
    rows.push(row);
    console.log(
      `${String(n).padStart(6)} ${String(classes).padStart(8)} ${String(row.k).padStart(4)} ${String(chunk).padStart(6)} ${o.toFixed(0).padStart(9)} ${t.toFixed(0).padStart(9)} ${row.ratio.toFixed(2).padStart(11)} ${oPeak.toFixed(0).padStart(14)} ${tPeak.toFixed(0).padStart(14)}   ${row.mapAtR.ours.toFixed(5)} / ${row.mapAtR.torch.toFixed(5)}   ${row.precisionAt1.ours.toFixed(5)} / ${row.precisionAt1.torch.toFixed(5)}`,
    );
  }
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const result = {
    benchmark: 'evaluation: MAP@R + P@1, self-retrieval, exact chunked kNN (N(v) normalised, dim 128, SOP-like classes of 2..8)',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, threads, node: process.version },
    notes: [
      'times: median over fresh processes after a warm-up on 2,000 rows; include normalisation, kNN and metrics',
      'peak MB: VmHWM (RSS high-water mark) of each process, which includes the libraries and the input data; base MB: VmRSS just before the timed run',
      'same chunk size on both sides (our default 512 MiB budget); PyTorch runs plain topk, ours adds the deterministic tie handling',
    ],
    rows,
  };
  writeFileSync(join(outDir, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${join('bench', 'results', 'eval.json')}`);
}

await main();
