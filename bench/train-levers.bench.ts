// Speed levers benchmark: ccp-dml with its defaults (retaining allocator, channels_last) and with bf16, side by
// side in one run with Python PyTorch as its users run it by default (float32, NCHW, glibc malloc, threads =
// cores) and PyTorch with the same levers (tcmalloc preloaded, channels_last, bf16 autocast on the backbone).
// Cases: training steps (forward, C2-CCP loss against classes x K proxies, backward, weight decay, clipping,
// Adam) of the small ResNet, BN-Inception at 227 px with CUB's proxy set (BN frozen, as the paper) and
// ResNet-50 at 224 px, and BN-Inception's embedding throughput (inference). Rounds alternate the five
// columns; tables report medians and the ratios ours / PyTorch (below 1 = we are faster).
//
// Run: npm run bench:train (after the step benchmark) or node dist/bench/train-levers.bench.js
// env: LEVERS_ROUNDS (2), LEVERS_STEPS (3 timed steps per round for the large models, 10 for the small ResNet),
//      LEVERS_WARMUP (2), LEVERS_CASES (small-resnet,bni,resnet50,bni-embed), CCP_DML_THREADS,
//      LEVERS_BF16 (auto: the bf16 columns only where the CPU computes bf16 natively; elsewhere bf16 is emulated,
//      10-20x slower on both sides, what `precision: auto` avoids, and would take hours; 1 / 0 force them on / off),
//      LEVERS_FOLD (1; 0 runs ours with model.foldBatchNorm off, to show that lever's share: its entries are
//      saved as <case>-unfolded).
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  randn,
  int64,
  tidy,
  inferenceMode,
  keep,
  manualSeed,
  getNumThreads,
  torchVersion,
  allocatorInfo,
  cpuHasNativeBf16,
  type Tensor,
} from '../src/engine/index.js';
import { buildGradientPipeline } from '../src/training/gradient-pipeline.js';
import { parseRunConfig } from '../src/training/config.js';
import { buildModel, buildLoss, buildOptimizer } from '../src/training/build.js';
import { PythonWorker, leversEnv, median, formatTable, nowMs, minorFaults, statusKB, writeResults } from './common/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const PY_SCRIPT = join(repoRoot, 'bench', 'python', 'levers_bench.py');
const RESULTS = join(repoRoot, 'bench', 'results', 'train.json');

const env = (name: string, fallback: number) => (process.env[name] === undefined ? fallback : Number(process.env[name]));
const ROUNDS = env('LEVERS_ROUNDS', 2);
const WARMUP = env('LEVERS_WARMUP', 2);
const bf16Setting = process.env.LEVERS_BF16 ?? 'auto';
if (!['auto', '1', '0'].includes(bf16Setting)) throw new Error(`LEVERS_BF16: expected auto, 1 or 0, got '${bf16Setting}'`);
/** The CPU the run is on (entries of separate runs are merged into one file: each says where it ran). */
const CPU = { model: cpus()[0]?.model ?? 'unknown', nativeBf16: cpuHasNativeBf16() };
const BF16 = bf16Setting === 'auto' ? CPU.nativeBf16 : bf16Setting === '1';
const FOLD = (process.env.LEVERS_FOLD ?? '1') !== '0';

type ModelName = 'small_resnet' | 'bninception' | 'resnet50';
interface Case {
  name: string;
  label: string;
  kind: 'step' | 'embed';
  model: ModelName;
  input: [number, number, number, number];
  steps: number;
}
const large = env('LEVERS_STEPS', 3);
const ALL: Case[] = [
  {
    name: 'small-resnet',
    label: 'small ResNet step (3x32x32, batch 64)',
    kind: 'step',
    model: 'small_resnet',
    input: [64, 3, 32, 32],
    steps: env('LEVERS_STEPS', 10),
  },
  {
    name: 'bni',
    label: 'BN-Inception step (227 px, batch 32, C2-CCP, CUB proxies 100 x 8)',
    kind: 'step',
    model: 'bninception',
    input: [32, 3, 227, 227],
    steps: large,
  },
  { name: 'resnet50', label: 'ResNet-50 step (224 px, batch 32, C2-CCP)', kind: 'step', model: 'resnet50', input: [32, 3, 224, 224], steps: large },
  { name: 'bni-embed', label: 'BN-Inception embedding (227 px, batch 64)', kind: 'embed', model: 'bninception', input: [64, 3, 227, 227], steps: large },
];
const wanted = (process.env.LEVERS_CASES ?? ALL.map((c) => c.name).join(',')).split(',');
const CASES = ALL.filter((c) => wanted.includes(c.name));
const DIM = 128;
const CLASSES = 100;
const K = 8;
const frozenBn = (m: ModelName) => m !== 'small_resnet';

/** Our side: a model, loss and optimiser built from a run config, as the trainer builds them. */
class Ours {
  private readonly parts;
  private readonly x: Tensor;
  private readonly y: Tensor;

  constructor(
    readonly c: Case,
    precision: 'fp32' | 'bf16',
  ) {
    manualSeed(0);
    const [B, C, H] = c.input;
    const cfg = parseRunConfig({
      dataset: { name: 'omniglot', channels: C as 3, imageSize: H },
      model: { name: c.model, embeddingDim: DIM, freezeBatchNorm: frozenBn(c.model), precision, foldBatchNorm: FOLD },
      loss: { name: 'ccp/contrastive', options: { posMargin: 0, negMargin: 0.5 } },
      ccp: { proxiesPerClass: K },
      optimizer: { name: 'adam', lr: 1e-4, weightDecay: 1e-4, clipNorm: 10, clipValue: 10 },
    });
    const model = buildModel(cfg, [C, H, c.input[3]]);
    const loss = buildLoss(cfg, CLASSES);
    const setup = buildOptimizer(cfg, model, loss);
    this.parts = { model, loss, pipeline: buildGradientPipeline(cfg.optimizer, setup, loss) };
    this.x = keep(randn(c.input));
    this.y = keep(int64(Array.from({ length: B }, (_, i) => Math.floor(i / Math.max(1, B / 8)) % CLASSES)));
  }

  /** One timed unit: a training step, or one inference batch. */
  run(): void {
    const { model, loss, pipeline } = this.parts;
    if (this.c.kind === 'embed') {
      model.eval();
      // As `embed` and evaluation run it (and PyTorch's side, under torch.inference_mode).
      tidy(() => inferenceMode(() => model.forward(this.x).toFloat32Array()));
      return;
    }
    model.train();
    tidy(() => {
      const out = loss.forward(model.forward(this.x), this.y);
      out.backward();
      return out.item();
    });
    pipeline.apply();
  }

  times(iters: number, warmup: number): { times: number[]; faults: number[] } {
    for (let i = 0; i < warmup; i++) this.run();
    const times: number[] = [];
    const faults: number[] = [];
    for (let i = 0; i < iters; i++) {
      const f0 = minorFaults();
      const t0 = nowMs();
      this.run();
      times.push(nowMs() - t0);
      faults.push(minorFaults() - f0);
    }
    return { times, faults };
  }
}

const ALL_COLUMNS = ['ours', 'ours bf16', 'PyTorch default', 'PyTorch levers', 'PyTorch levers bf16'] as const;
type Column = (typeof ALL_COLUMNS)[number];
const COLUMNS: readonly Column[] = BF16 ? ALL_COLUMNS : ALL_COLUMNS.filter((k) => !k.endsWith('bf16'));

async function main(): Promise<void> {
  const threads = getNumThreads();
  const pyDefault = new PythonWorker(PY_SCRIPT, [String(threads)]);
  const pyLevers = new PythonWorker(PY_SCRIPT, [String(threads)], leversEnv());
  try {
    const hello = await pyDefault.ready<{ torch: string; threads: number }>();
    const helloL = await pyLevers.ready<{ preload: string }>();
    console.log(
      `speed levers: ours (libtorch ${torchVersion}, ${threads} threads, allocator ${allocatorInfo().backend}, channels_last, native bf16: ${cpuHasNativeBf16()}) ` +
        `vs Python PyTorch ${hello.torch} (${hello.threads} threads; levers column preloads ${helloL.preload || 'nothing: tcmalloc missing'})\n` +
        `machine: ${availableParallelism()} cores, load ${loadavg()
          .map((v) => v.toFixed(1))
          .join(
            ' ',
          )}; ${ROUNDS} rounds, medians${BF16 ? '' : '; bf16 columns off (LEVERS_BF16)'}${FOLD ? '' : '; ours without BatchNorm folding (LEVERS_FOLD=0)'}\n`,
    );
    const samples = new Map<string, Record<Column, number[]>>();
    const faults = new Map<string, Record<Column, number[]>>();
    for (const c of CASES) {
      samples.set(c.name, Object.fromEntries(COLUMNS.map((k) => [k, []])) as unknown as Record<Column, number[]>);
      faults.set(c.name, Object.fromEntries(COLUMNS.map((k) => [k, []])) as unknown as Record<Column, number[]>);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CASES) {
        const req = { cmd: c.kind, model: c.model, input: c.input, dim: DIM, classes: CLASSES, K, freezeBN: frozenBn(c.model), iters: c.steps, warmup: WARMUP };
        const record = (col: Column, r: { times: number[]; faults: number[] }) => {
          samples.get(c.name)![col].push(...r.times);
          faults.get(c.name)![col].push(...r.faults);
          process.stdout.write(`  round ${round + 1} ${c.name} ${col}: ${median(r.times).toFixed(0)} ms\n`);
        };
        for (const precision of BF16 ? (['fp32', 'bf16'] as const) : (['fp32'] as const)) {
          const ours = new Ours(c, precision);
          record(precision === 'fp32' ? 'ours' : 'ours bf16', ours.times(c.steps, WARMUP));
        }
        record('PyTorch default', await pyDefault.request({ ...req, channelsLast: false, bf16: false }));
        record('PyTorch levers', await pyLevers.request({ ...req, channelsLast: true, bf16: false }));
        if (BF16) record('PyTorch levers bf16', await pyLevers.request({ ...req, channelsLast: true, bf16: true }));
      }
    }
    const rows: (string | number)[][] = [];
    const out: Record<string, unknown> = {};
    for (const c of CASES) {
      const m = Object.fromEntries(COLUMNS.map((k) => [k, median(samples.get(c.name)![k])])) as Record<Column, number>;
      const f = Object.fromEntries(COLUMNS.map((k) => [k, median(faults.get(c.name)![k])])) as Record<Column, number>;
      const unit = (ms: number) => (c.kind === 'embed' ? `${((c.input[0] * 1000) / ms).toFixed(1)} img/s` : `${ms.toFixed(0)} ms`);
      const bf16Ratios = BF16
        ? { oursBf16OverPytorchDefault: m['ours bf16'] / m['PyTorch default'], oursBf16OverPytorchTunedBf16: m['ours bf16'] / m['PyTorch levers bf16'] }
        : null;
      const entry = {
        label: c.label,
        date: new Date().toISOString(),
        loadavg: loadavg(),
        cpu: CPU,
        medianMs: m,
        minorFaultsPerStep: f,
        oursOverPytorchDefault: m.ours / m['PyTorch default'],
        oursOverPytorchTuned: m.ours / m['PyTorch levers'],
        ...bf16Ratios,
      };
      out[FOLD ? c.name : `${c.name}-unfolded`] = entry;
      rows.push([
        c.label,
        ...COLUMNS.map((k) => unit(m[k])),
        entry.oursOverPytorchDefault.toFixed(2),
        entry.oursOverPytorchTuned.toFixed(2),
        ...(bf16Ratios ? [bf16Ratios.oursBf16OverPytorchDefault.toFixed(2), bf16Ratios.oursBf16OverPytorchTunedBf16.toFixed(2)] : []),
      ]);
    }
    console.log(
      '\n' +
        formatTable(
          ['case', ...COLUMNS, 'ours / PT default', 'ours / PT levers', ...(BF16 ? ['ours bf16 / PT default', 'ours bf16 / PT levers bf16'] : [])],
          rows,
        ),
    );
    console.log(
      `\npage faults per step (median): ${CASES.map((c) => `${c.name}: ${COLUMNS.map((k) => `${k} ${median(faults.get(c.name)![k])}`).join(', ')}`).join('; ')}`,
    );
    console.log(`peak RSS: ours ${(statusKB('VmHWM') / 1024).toFixed(0)} MB`);
    // Merged into the step benchmark's results file (bench:train writes it first); a run of some cases
    // (LEVERS_CASES) keeps the other cases' earlier entries (each entry has its own date and load).
    const previous = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
    const before = ((previous.levers as { cases?: Record<string, unknown> } | undefined)?.cases ?? {}) as Record<string, unknown>;
    writeResults(RESULTS, {
      ...previous,
      levers: {
        date: new Date().toISOString(),
        threads,
        cpu: CPU,
        torch: { ours: torchVersion, python: hello.torch },
        loadavg: loadavg(),
        cases: { ...before, ...out },
      },
    });
  } finally {
    await pyDefault.close();
    await pyLevers.close();
  }
}

await main();
