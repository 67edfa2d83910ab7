// npm run bench:dist — data parallelism, ours (c10d Gloo through the addon) vs PyTorch's torch.distributed (gloo),
// side by side in one run, one thread per process, rounds alternating ours / PyTorch, medians:
//  1. all-reduce (sum) of a 25 MB float32 buffer between 2 ranks on loopback; ms and MB/s, ratio ours / PyTorch;
//  2. then one training-step comparison per case of BENCH_CASES (bench/ranks/step-config.ts), each with 1 and 2
//     processes over the same global batch:
//       small-c2     SmallCnn ([32, 64, 128], 1x32x32, D 128), plain contrastive C2, global batch BENCH_BATCH (32)
//       small-c2ccp  the same with C2-CCP (ccp/contrastive: K = 8 proxies per class, C = 100, λ = 2e-4 on the
//                    proximal term from the first step, anchor = the initial weights)
//       large-c2     BN-Inception (BN frozen, as the paper), 3xBENCH_LARGE_SIZE² (96), global batch 16, plain C2
//       large-c2ccp  the same with C2-CCP
//     The loss sees the gathered global batch of 8 classes; Adam + weight decay + clipping. Ours is the trainer's
//     data-parallel step (bench/ranks/step-rank.ts: rank slice, DataParallel.gatherBatch, the sync callback's
//     GradientReducer — the CCP proxies are among its tensors — and BN buffers from rank 0, the gradient
//     pipeline), PyTorch is DistributedDataParallel (bench/python/dist_step.py; the proxies are a parameter of the
//     module DDP wraps). Ours with 2 processes runs twice: the gradient all-reduce overlapped with backward
//     (default, autograd hooks in the addon, as DDP) and after backward (GradientReducer's overlap: false).
//     Reports ours / DDP per process count and the scaling efficiency = 2-process throughput / (2 x 1-process
//     throughput) on each side (same global batch: 1.0 would be a perfect halving of the step time).
// Weights are random on each side (not the same init): the step times are compared, not the losses.
// env: BENCH_CASES ('small-c2,small-c2ccp,large-c2ccp'; 'all' = the four), BENCH_ROUNDS (3), BENCH_STEPS (timed
//      steps per round, SmallCnn, 50: two-process steps vary by ~20% step to step on 2 cores, and 8 left the
//      median ±4% from run to run), BENCH_WARMUP (3), BENCH_BATCH (32), BENCH_LARGE (0 drops the large-* cases),
//      BENCH_LARGE_SIZE (96), BENCH_LARGE_STEPS (4).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchVersion } from '../src/index.js';
import { formatTable, median, writeResults } from './common/index.js';
import { PYTHON_ENV, ourRanks, pytorchRanks } from './ranks/launch.js';
import { CCP_STEP, parseStepCases, stepCaseParts, type StepCaseName, type StepLoss } from './ranks/step-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const RESULTS = join(repoRoot, 'bench', 'results', 'dist.json');
const envNumber = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be an integer >= 1, got '${process.env[name]}'`);
  return n;
};
const ROUNDS = envNumber('BENCH_ROUNDS', 3);
const STEPS = envNumber('BENCH_STEPS', 50);
const WARMUP = envNumber('BENCH_WARMUP', 3);
const BATCH = envNumber('BENCH_BATCH', 32);
const LARGE = process.env.BENCH_LARGE !== '0';
const LARGE_SIZE = envNumber('BENCH_LARGE_SIZE', 96);
const LARGE_STEPS = envNumber('BENCH_LARGE_STEPS', 4);
const SELECTED = parseStepCases(process.env.BENCH_CASES);
const CASE_NAMES = SELECTED.filter((n) => LARGE || !n.startsWith('large-'));
if (CASE_NAMES.length < SELECTED.length) console.log(`BENCH_LARGE=0: skipping ${SELECTED.filter((n) => !CASE_NAMES.includes(n)).join(', ')}\n`);
const BYTES = 25 * 2 ** 20;
const ITERS = 10;

async function allReduce(): Promise<{ oursMs: number; torchMs: number; ratio: number }> {
  const t = { ours: [] as number[], torch: [] as number[] };
  const args = [String(BYTES), String(ITERS)];
  for (let round = 0; round < ROUNDS; round++) {
    t.ours.push(...(await ourRanks(2, 'allreduce-rank.js', args)).seconds!);
    t.torch.push(...(await pytorchRanks(2, 'dist_allreduce.py', args)).seconds!);
  }
  const mb = BYTES / 2 ** 20;
  const row = (name: string, s: number[]) => [name, median(s) * 1000, mb / median(s)];
  console.log(`1. all-reduce (sum) of ${mb} MB float32, 2 ranks on loopback, 1 thread each, ${ROUNDS} x ${ITERS} timed, median:\n`);
  console.log(formatTable(['side', 'ms', 'MB/s'], [row('ours (c10d gloo via the addon)', t.ours), row('PyTorch torch.distributed gloo', t.torch)]));
  const ratio = median(t.ours) / median(t.torch);
  console.log(`\nratio ours / PyTorch (time): ${ratio.toFixed(3)}`);
  return { oursMs: median(t.ours) * 1000, torchMs: median(t.torch) * 1000, ratio };
}

interface StepCase {
  name: StepCaseName;
  label: string;
  model: string;
  loss: StepLoss;
  /** The loss as printed: 'C2' or 'C2-CCP (K 8, C 100, λ 2e-4)'. */
  lossLabel: string;
  batch: number;
  size: number;
  warmup: number;
  steps: number;
}

type StepResult = StepCase & Record<string, unknown> & { ours1: number; ours2: number; torch1: number; torch2: number; ours2after: number };

async function stepTimes(c: StepCase, index: number): Promise<StepResult> {
  const args = [c.model, c.loss, String(c.batch), String(c.size), String(c.warmup), String(c.steps)];
  const t: Record<string, number[]> = { ours1: [], torch1: [], ours2: [], torch2: [], ours2after: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of [1, 2]) {
      t[`ours${n}`]!.push(...(await ourRanks(n, 'step-rank.js', args)).ms!);
      t[`torch${n}`]!.push(...(await pytorchRanks(n, 'dist_step.py', args)).ms!);
    }
    t.ours2after!.push(...(await ourRanks(2, 'step-rank.js', [...args, 'after'])).ms!);
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const eff = (one: number, two: number) => one / (2 * two);
  const rows = [1, 2].map((n) => [
    `${n} process${n > 1 ? 'es' : ''}`,
    m[`ours${n}`]!,
    m[`torch${n}`]!,
    c.batch / (m[`ours${n}`]! / 1000),
    c.batch / (m[`torch${n}`]! / 1000),
    m[`ours${n}`]! / m[`torch${n}`]!,
  ]);
  console.log(
    `\n${index}. training step [${c.name}], ${c.label}, ${c.lossLabel}, global batch ${c.batch}, 1 thread per process, ${ROUNDS} x ${c.steps} timed steps, median:\n`,
  );
  console.log(formatTable(['processes', 'ours ms', 'DDP ms', 'ours img/s', 'DDP img/s', 'ours/DDP'], rows));
  const result = {
    ...c,
    ours1: m.ours1!,
    ours2: m.ours2!,
    torch1: m.torch1!,
    torch2: m.torch2!,
    ours2after: m.ours2after!,
    ratio1: m.ours1! / m.torch1!,
    ratio2: m.ours2! / m.torch2!,
    efficiencyOurs: eff(m.ours1!, m.ours2!),
    efficiencyTorch: eff(m.torch1!, m.torch2!),
    samples: t,
  };
  console.log(
    `\nscaling efficiency (2-process throughput / 2 x 1-process): ours ${result.efficiencyOurs.toFixed(3)}, DDP ${result.efficiencyTorch.toFixed(3)}`,
  );
  console.log(
    `2 processes, ours with the all-reduce after backward: ${m.ours2after!.toFixed(1)} ms (ours/DDP ${(m.ours2after! / m.torch2!).toFixed(3)}); ` +
      `overlapped / after: ${(m.ours2! / m.ours2after!).toFixed(3)}`,
  );
  return { ...result, ratio2after: m.ours2after! / m.torch2!, overlapGain: m.ours2! / m.ours2after! };
}

/** All cases in one table, one row group per case (model and loss named), as the README's. */
function summary(results: StepResult[]): string {
  const rows: (string | number)[][] = [];
  for (const r of results) {
    const eff = (one: number, two: number) => one / (2 * two);
    rows.push([`${r.label}, ${r.batch}`, r.lossLabel, '1', r.ours1, r.torch1, r.ours1 / r.torch1, '']);
    rows.push(['', '', '2', r.ours2, r.torch2, r.ours2 / r.torch2, `${eff(r.ours1, r.ours2).toFixed(2)} / ${eff(r.torch1, r.torch2).toFixed(2)}`]);
    rows.push(['', '', '2, all-reduce after backward', r.ours2after, '', r.ours2after / r.torch2, '']);
  }
  return formatTable(['model, global batch', 'loss', 'processes', 'ours ms', 'DDP ms', 'ours/DDP', 'scaling eff. ours / DDP'], rows);
}

const CCP_LABEL = `C2-CCP (K ${CCP_STEP.proxiesPerClass}, C ${CCP_STEP.classes}, λ ${CCP_STEP.lambda.toExponential()})`;

function stepCase(name: StepCaseName): StepCase {
  const { model, loss } = stepCaseParts(name);
  const lossLabel = loss === 'ccp' ? CCP_LABEL : 'C2';
  return model === 'small_cnn'
    ? { name, label: 'SmallCnn (1x32x32)', model, loss, lossLabel, batch: BATCH, size: 32, warmup: WARMUP, steps: STEPS }
    : // The paper's backbone at a reduced input size so that a round stays short on a small machine.
      {
        name,
        label: `BN-Inception (BN frozen, 3x${LARGE_SIZE}x${LARGE_SIZE})`,
        model,
        loss,
        lossLabel,
        batch: 16,
        size: LARGE_SIZE,
        warmup: Math.min(2, WARMUP),
        steps: LARGE_STEPS,
      };
}

const reduce = await allReduce();
const steps: StepResult[] = [];
for (const [i, name] of CASE_NAMES.entries()) steps.push(await stepTimes(stepCase(name), i + 2));
if (steps.length) console.log(`\nsummary (median step ms; scaling efficiency = 2-process throughput / (2 x 1-process)):\n\n${summary(steps)}`);
writeResults(RESULTS, {
  date: new Date().toISOString(),
  libtorch: torchVersion,
  node: process.version,
  rounds: ROUNDS,
  steps: STEPS,
  warmup: WARMUP,
  batch: BATCH,
  cases: CASE_NAMES,
  pythonEnv: PYTHON_ENV,
  allReduce: reduce,
  step: steps,
});
