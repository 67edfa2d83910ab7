// Engine benchmark, side by side with Python PyTorch in one run: (o) the per-op cost of a chain of 1,000 small
// ops, (a) 1024^3 float32 matmul, (b) conv2d
// forward + backward (batch 64, 64 -> 64 channels, 3x3, 32x32), (c) one training step of a small ResNet
// (stem + 4 residual blocks, 32x32x3 input, batch 64, Adam, cross-entropy over 10 classes).
// Both sides use the same thread count, warm up, then alternate rounds (ours, PyTorch, ours, ...); the
// table reports medians over all timed iterations and the ratio ours / PyTorch.
// Run: npm run bench:engine   (env: BENCH_ROUNDS, BENCH_ITERS (scale), BENCH_CASES=ops,matmul,conv,resnet, CCP_DML_THREADS)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randn, randint, conv2d, crossEntropy, tidy, keep, noGrad, manualSeed, getNumThreads, torchVersion, type Tensor } from '../src/engine/index.js';
import { Module, Conv2d, BatchNorm2d, ReLU, Sequential, AdaptiveAvgPool2d, Linear, Flatten } from '../src/engine/nn/index.js';
import { Adam } from '../src/engine/optim/index.js';
import { PythonWorker, timeIterations, median, quantile, formatTable, tick, alternate, writeResults } from './common/index.js';

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

  const cx = keep(randn([64, 64, 32, 32]).requireGrad());
  const cw = keep(randn([64, 64, 3, 3]).mul(0.05).requireGrad());

  const model = smallResNet();
  model.train();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const rx = keep(randn([64, 3, 32, 32]));
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

interface Row {
  case: string;
  label: string;
  oursMs: number;
  torchMs: number;
  ratio: number;
  /** Fastest iteration on each side over fastest: what a loaded machine disturbs least (the per-op cost). */
  bestRatio: number;
  ours: number[];
  torch: number[];
}

async function main(): Promise<void> {
  const threads = getNumThreads();
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const itersScale = Number(process.env.BENCH_ITERS ?? 1);
  const py = new PythonWorker(PY_SCRIPT, [String(threads)]);
  try {
    const hello = await py.ready<{ torch: string; threads: number }>();
    console.log(
      `engine benchmark: ours (libtorch ${torchVersion}, ${threads} threads) vs Python PyTorch ${hello.torch} (${hello.threads} threads); ${rounds} interleaved rounds\n`,
    );
    const only = process.env.BENCH_CASES?.split(',').filter(Boolean);
    const cases = makeCases().filter((c) => !only || only.includes(c.name));
    const rows: Row[] = [];
    for (const c of cases) {
      const iters = Math.max(1, Math.round(c.iters * itersScale));
      // Warm-up on both sides.
      await timeIterations(c.fn, 0, c.warmup);
      await py.request({ case: c.name, iters: 0, warmup: c.warmup });
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        // Alternate who goes first so that neither side always follows the other's cache / allocator state.
        const runOurs = async () => ours.push(...(await timeIterations(c.fn, iters)));
        const runPy = async () => theirs.push(...(await py.request<{ times: number[] }>({ case: c.name, iters, warmup: 0 })).times);
        await alternate(r, runOurs, runPy);
        await tick();
      }
      const best = (xs: number[]) => Math.min(...xs);
      const row: Row = {
        case: c.name,
        label: c.label,
        oursMs: median(ours),
        torchMs: median(theirs),
        ratio: median(ours) / median(theirs),
        bestRatio: best(ours) / best(theirs),
        ours,
        torch: theirs,
      };
      rows.push(row);
      console.log(
        `${c.label}: ours ${row.oursMs.toFixed(2)} ms (p25 ${quantile(ours, 0.25).toFixed(2)}, p75 ${quantile(ours, 0.75).toFixed(2)}), ` +
          `PyTorch ${row.torchMs.toFixed(2)} ms (p25 ${quantile(theirs, 0.25).toFixed(2)}, p75 ${quantile(theirs, 0.75).toFixed(2)}); ` +
          `fastest: ours ${best(ours).toFixed(2)} ms, PyTorch ${best(theirs).toFixed(2)} ms, ratio ${row.bestRatio.toFixed(2)}`,
      );
    }
    console.log(
      '\n' +
        formatTable(
          ['benchmark', 'ours ms', 'PyTorch ms', 'ours/PyTorch'],
          rows.map((r) => [r.label, r.oursMs, r.torchMs, r.ratio.toFixed(3)]),
        ),
    );
    const target = 1.1;
    const over = rows.filter((r) => r.ratio > target);
    console.log(over.length ? `\nabove the ${target} target: ${over.map((r) => `${r.case} (${r.ratio.toFixed(2)})`).join(', ')}` : `\nall ratios <= ${target}`);
    writeResults(RESULTS, {
      date: new Date().toISOString(),
      threads,
      libtorch: torchVersion,
      pytorch: hello.torch,
      rounds,
      node: process.version,
      target,
      rows: rows.map((r) => ({
        ...r,
        oursMs: +r.oursMs.toFixed(3),
        torchMs: +r.torchMs.toFixed(3),
        ratio: +r.ratio.toFixed(4),
        bestRatio: +r.bestRatio.toFixed(4),
      })),
    });
  } finally {
    await py.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
