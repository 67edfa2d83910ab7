// Engine benchmark, side by side with Python PyTorch in one run, three columns: ours with its defaults (the
// tcmalloc-backed allocator; channels_last for the convolution cases, as our conv models run), PyTorch as its
// users run it by default (float32, NCHW, glibc malloc) and PyTorch with the same levers (tcmalloc preloaded,
// channels_last). Cases: (o) the per-op cost of a chain of 1,000 small ops, (a) 1024^3 float32 matmul,
// (b) conv2d forward + backward (batch 64, 64 -> 64 channels, 3x3, 32x32), (c) one training step of a small
// ResNet (stem + 4 residual blocks, 32x32x3 input, batch 64, Adam, cross-entropy over 10 classes).
// All sides use the same thread count, warm up, then take turns in rounds (the order rotates each round); the
// table reports medians over all timed iterations and the ratios of ours to each PyTorch column.
// Run: npm run bench:engine   (env: BENCH_ROUNDS, BENCH_ITERS (scale), BENCH_CASES=ops,matmul,conv,resnet, CCP_DML_THREADS)
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  randn,
  randint,
  conv2d,
  crossEntropy,
  tidy,
  keep,
  noGrad,
  manualSeed,
  getNumThreads,
  torchVersion,
  allocatorInfo,
  type Tensor,
} from '../src/engine/index.js';
import { Module, Conv2d, BatchNorm2d, ReLU, Sequential, AdaptiveAvgPool2d, Linear, Flatten } from '../src/engine/nn/index.js';
import { Adam } from '../src/engine/optim/index.js';
import { PythonWorker, leversEnv, timeIterations, median, quantile, formatTable, tick, writeResults } from './common/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..'); // dist/bench -> repo root
const PY_SCRIPT = join(repoRoot, 'bench', 'python', 'engine_bench.py');
const RESULTS = join(repoRoot, 'bench', 'results', 'engine.json');

// ---- the small ResNet (same as SmallResNet in engine_bench.py) ----
class BasicBlock extends Module {
  private readonly main: Sequential;
  private readonly shortcut: Sequential | null;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.main = this.registerModule(
      'main',
      new Sequential(
        new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false }),
        new BatchNorm2d(cout),
        new ReLU(),
        new Conv2d(cout, cout, 3, { padding: 1, bias: false }),
        new BatchNorm2d(cout),
      ),
    );
    this.shortcut =
      stride !== 1 || cin !== cout
        ? this.registerModule('shortcut', new Sequential(new Conv2d(cin, cout, 1, { stride, bias: false }), new BatchNorm2d(cout)))
        : null;
  }
  override forward(x: Tensor): Tensor {
    return this.main
      .forward(x)
      .add(this.shortcut ? this.shortcut.forward(x) : x)
      .relu();
  }
}

const BLOCKS: [number, number, number][] = [
  [32, 32, 1],
  [32, 64, 2],
  [64, 64, 1],
  [64, 128, 2],
];

function smallResNet(classes = 10): Sequential {
  return new Sequential(
    new Conv2d(3, 32, 3, { padding: 1, bias: false }),
    new BatchNorm2d(32),
    new ReLU(),
    ...BLOCKS.map(([i, o, s]) => new BasicBlock(i, o, s)),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(BLOCKS.at(-1)![1], classes),
  );
}

// ---- our side of each case ----
interface Case {
  name: string;
  label: string;
  iters: number;
  warmup: number;
  fn: () => void;
}

function makeCases(): Case[] {
  manualSeed(0);
  const a = keep(randn([1024, 1024]));
  const b = keep(randn([1024, 1024]));

  // channels_last, as our conv models run by default (PyTorch's levers column does the same).
  const cx = keep(randn([64, 64, 32, 32]).toChannelsLast().requireGrad());
  const cw = keep(randn([64, 64, 3, 3]).mul(0.05).toChannelsLast().requireGrad());

  const model = smallResNet().toMemoryFormat('channels_last');
  model.train();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const rx = keep(randn([64, 3, 32, 32]).toChannelsLast());
  const ry = keep(randint(0, 10, [64]));

  // Per-op cost of the binding: 1,000 small ops (add, mul, relu, sum over 8 values, with autograd off), so the
  // time is the call overhead (argument checks, tensor wrappers, dispatch), not the arithmetic.
  const sx = keep(randn([8]));
  const sy = keep(randn([8]));
  const smallOps = () =>
    tidy(() => {
      let v = sx;
      for (let i = 0; i < 250; i++) v = v.add(sy).mul(0.5).relu().sum(0, true).add(sx);
      return v;
    });

  return [
    { name: 'ops', label: 'small-op chain: 1,000 ops on 8 values (per-op cost)', iters: 20, warmup: 5, fn: () => void noGrad(smallOps) },
    { name: 'matmul', label: 'matmul 1024^3 f32', iters: 10, warmup: 3, fn: () => tidy(() => void a.matmul(b)) },
    {
      name: 'conv',
      label: 'conv2d fwd+bwd 64x64x32x32, 64->64 3x3',
      iters: 4,
      warmup: 2,
      fn: () =>
        tidy(() => {
          cx.zeroGrad();
          cw.zeroGrad();
          conv2d(cx, cw, null, { padding: 1 }).sum().backward();
        }),
    },
    {
      name: 'resnet',
      label: 'small ResNet train step (b64, Adam)',
      iters: 3,
      warmup: 2,
      fn: () =>
        tidy(() => {
          opt.zeroGrad();
          const loss = crossEntropy(model.forward(rx), ry);
          loss.backward();
          opt.step();
          loss.item();
        }),
    },
  ];
}

const SIDES = ['ours', 'PyTorch default', 'PyTorch levers'] as const;
type Side = (typeof SIDES)[number];

interface Row {
  case: string;
  label: string;
  oursMs: number;
  pytorchDefaultMs: number;
  pytorchLeversMs: number;
  oursOverPytorchDefault: number;
  /** Against PyTorch with the same levers: what the binding and engine cost or save. */
  oursOverPytorchTuned: number;
  /** Fastest iteration over fastest, against PyTorch levers: what a loaded machine disturbs least (the per-op cost). */
  bestRatio: number;
  times: Record<Side, number[]>;
}

async function main(): Promise<void> {
  const threads = getNumThreads();
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const itersScale = Number(process.env.BENCH_ITERS ?? 1);
  const workers = {
    'PyTorch default': new PythonWorker(PY_SCRIPT, [String(threads)]),
    'PyTorch levers': new PythonWorker(PY_SCRIPT, [String(threads), 'levers'], leversEnv()),
  };
  try {
    const hello = await workers['PyTorch default'].ready<{ torch: string; threads: number }>();
    const helloL = await workers['PyTorch levers'].ready<{ preload: string }>();
    console.log(
      `engine benchmark: ours (libtorch ${torchVersion}, ${threads} threads, allocator ${allocatorInfo().backend}, channels_last convs) ` +
        `vs Python PyTorch ${hello.torch} (${hello.threads} threads) by default and with the levers ` +
        `(preloads ${helloL.preload || 'nothing: tcmalloc missing'}, channels_last convs); ${rounds} rounds, order rotating\n`,
    );
    const only = process.env.BENCH_CASES?.split(',').filter(Boolean);
    const cases = makeCases().filter((c) => !only || only.includes(c.name));
    const rows: Row[] = [];
    for (const c of cases) {
      const iters = Math.max(1, Math.round(c.iters * itersScale));
      const times: Record<Side, number[]> = { ours: [], 'PyTorch default': [], 'PyTorch levers': [] };
      const run = async (side: Side, n: number, warmup: number) => {
        const t =
          side === 'ours'
            ? await timeIterations(c.fn, n, warmup)
            : (await workers[side].request<{ times: number[] }>({ case: c.name, iters: n, warmup })).times;
        times[side].push(...t);
      };
      for (const side of SIDES) await run(side, 0, c.warmup);
      for (let r = 0; r < rounds; r++) {
        // The order rotates, so that no side always follows another's cache / allocator state.
        for (let i = 0; i < SIDES.length; i++) await run(SIDES[(r + i) % SIDES.length]!, iters, 0);
        await tick();
      }
      const best = (xs: number[]) => Math.min(...xs);
      const med = (side: Side) => median(times[side]);
      const row: Row = {
        case: c.name,
        label: c.label,
        oursMs: med('ours'),
        pytorchDefaultMs: med('PyTorch default'),
        pytorchLeversMs: med('PyTorch levers'),
        oursOverPytorchDefault: med('ours') / med('PyTorch default'),
        oursOverPytorchTuned: med('ours') / med('PyTorch levers'),
        bestRatio: best(times.ours) / best(times['PyTorch levers']),
        times,
      };
      rows.push(row);
      const spread = (side: Side) =>
        `${side} ${med(side).toFixed(2)} ms (p25 ${quantile(times[side], 0.25).toFixed(2)}, p75 ${quantile(times[side], 0.75).toFixed(2)}, fastest ${best(times[side]).toFixed(2)})`;
      console.log(`${c.label}: ${SIDES.map(spread).join('; ')}`);
    }
    console.log(
      '\n' +
        formatTable(
          ['benchmark', 'ours ms', 'PyTorch default ms', 'PyTorch levers ms', 'ours / PT default', 'ours / PT levers'],
          rows.map((r) => [r.label, r.oursMs, r.pytorchDefaultMs, r.pytorchLeversMs, r.oursOverPytorchDefault.toFixed(3), r.oursOverPytorchTuned.toFixed(3)]),
        ),
    );
    // Parity target against PyTorch with the same levers (the per-op goal of 1.5x is looser).
    const target = 1.1;
    const over = rows.filter((r) => r.oursOverPytorchTuned > target);
    console.log(
      over.length
        ? `\nabove ${target} against PyTorch levers: ${over.map((r) => `${r.case} (${r.oursOverPytorchTuned.toFixed(2)})`).join(', ')}`
        : `\nall ratios against PyTorch levers <= ${target}`,
    );
    const round = (x: number, digits: number) => +x.toFixed(digits);
    writeResults(RESULTS, {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model ?? 'unknown',
      threads,
      libtorch: torchVersion,
      pytorch: hello.torch,
      pytorchLeversPreload: helloL.preload,
      rounds,
      node: process.version,
      target,
      rows: rows.map((r) => ({
        ...r,
        oursMs: round(r.oursMs, 3),
        pytorchDefaultMs: round(r.pytorchDefaultMs, 3),
        pytorchLeversMs: round(r.pytorchLeversMs, 3),
        oursOverPytorchDefault: round(r.oursOverPytorchDefault, 4),
        oursOverPytorchTuned: round(r.oursOverPytorchTuned, 4),
        bestRatio: round(r.bestRatio, 4),
      })),
    });
  } finally {
    await Promise.all(Object.values(workers).map((w) => w.close()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
