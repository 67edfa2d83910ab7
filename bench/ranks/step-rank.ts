// One rank of bench:dist's training-step comparison (ours): the trainer's data-parallel step on a fixed random
// global batch, with the trainer's own pieces — this rank's slice (rankSlice), forward, DataParallel.gatherBatch
// (embeddings all-gathered with their gradient, labels all-gathered), the loss over the global batch, backward,
// the sync callback's afterBackward (GradientReducer's bucketed average over every optimised tensor, the CCP
// proxies included, + BatchNorm buffers from rank 0), then the gradient pipeline (weight decay, CCP's proximal
// term, clipping) and the Adam step. The sync callback's onTrainBegin broadcasts rank 0's weights (and proxies).
// argv: <model small_cnn|bninception> <loss contrastive|ccp> <global batch> <image size> <warm-up steps>
//       <timed steps> [overlap|after]
// (ccp: ccp/contrastive with CCP_STEP's C, K and λ, the regulariser active from the first step with the initial
// weights as its anchor; after: the gradient all-reduce after backward instead of during it, overlap: false).
// Rank 0 prints {"ms": [step times], "losses": [...], "drift": d}; each step starts after a barrier so that ranks
// time together; d (checked after the timed steps) is how far any rank's weights or proxies are from rank 0's.
// Arguments are checked before the rank joins its group: a bad one ends every rank at once, naming it.
import { randn, int64, tidy, manualSeed, noGrad, tensor } from '../../src/engine/index.js';
import { ProcessGroup } from '../../src/distributed/index.js';
import { rankSlice } from '../../src/data/rank-slice-sampler.js';
import { isCcpLoss } from '../../src/ccp/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { buildModel, buildLoss, buildOptimizer } from '../../src/training/build.js';
import { buildGradientPipeline } from '../../src/training/gradient-pipeline.js';
import { DataParallel } from '../../src/training/distributed/data-parallel.js';
import type { StepContext } from '../../src/training/hooks/index.js';
import { nowMs } from '../common/index.js';
import { BATCH_CLASSES, parseStepLoss, stepNumClasses, stepRunConfig } from './step-config.js';

function parseArgs(argv: string[]) {
  const [modelName, lossName, batch, size, warmup, timed, mode = 'overlap', ...extra] = argv;
  if (modelName !== 'small_cnn' && modelName !== 'bninception')
    throw new Error(`model: unknown model '${modelName ?? ''}' (expected small_cnn or bninception)`);
  const loss = parseStepLoss(lossName);
  const count = (name: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer >= ${min}, got '${value ?? ''}'`);
    return n;
  };
  if (mode !== 'overlap' && mode !== 'after') throw new Error(`mode: expected overlap or after, got '${mode}'`);
  if (extra.length) throw new Error(`unexpected argument(s) ${extra.map((a) => `'${a}'`).join(' ')}`);
  return {
    modelName,
    loss,
    B: count('global batch', batch, 1),
    size: count('image size', size, 1),
    warmup: count('warm-up steps', warmup, 0),
    timed: count('timed steps', timed, 1),
    overlap: mode === 'overlap',
  };
}

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`step-rank: ${(e as Error).message}\n`);
  process.exit(2);
}
const { modelName, loss: lossName, B, size, warmup, timed, overlap } = args;
const image: [number, number, number] = [modelName === 'bninception' ? 3 : 1, size, size];
const dp = new DataParallel({ group: ProcessGroup.fromEnv(), overlap });
const group = dp.group;
manualSeed(1);
const cfg = parseRunConfig(stepRunConfig(modelName, image, lossName), 'bench:dist step config');
const model = buildModel(cfg, image);
model.train();
const loss = buildLoss(cfg, stepNumClasses(lossName));
const setup = buildOptimizer(cfg, model, loss);
const pipeline = buildGradientPipeline(cfg.optimizer, setup, loss);
// The sync callback reads these of the trainer's context (the weights to broadcast, the tensors to reduce).
const ctx = { model, loss, optimizer: setup.optimizer, resumed: false, warn: (m: string) => process.stderr.write(`warning: ${m}\n`) } as unknown as StepContext;
await dp.callback.onTrainBegin!(ctx);
if (isCcpLoss(loss)) {
  // As after a projection (decay 1): λ_t = λ and θ_anchor = the current (rank 0's, just broadcast) weights.
  const reg = loss.controller.regularizer;
  reg.setAnchor(setup.networkParams.map(([, p]) => p));
  reg.lambda = cfg.ccp.lambda;
}

// The global batch: 8 classes x B/8 samples; this rank keeps its slice.
const { start, end } = rankSlice(B, group.rank, group.worldSize);
const x = randn([B, ...image])
  .narrow(0, start, end - start)
  .contiguous();
const y = int64(Array.from({ length: B }, (_, i) => i % BATCH_CLASSES))
  .narrow(0, start, end - start)
  .contiguous();

function step(): number {
  const value = tidy(() => {
    const emb = model.forward(x);
    const g = dp.gatherBatch(emb, y);
    const out = loss.forward(g.embeddings, g.labels);
    const v = out.item();
    pipeline.backward(out);
    return v;
  });
  dp.callback.afterBackward!(ctx);
  pipeline.apply();
  return value;
}

const ms: number[] = [];
const losses: number[] = [];
for (let i = 0; i < warmup + timed; i++) {
  group.barrier();
  const t0 = nowMs();
  losses.push(step());
  if (i >= warmup) ms.push(nowMs() - t0);
}
// After the timed steps, untimed: the largest |difference| between a rank's optimised tensors (network and
// proxies) and rank 0's, over tensors and ranks — 0 while the ranks stay replicas.
const drift = noGrad(() =>
  tidy(() => {
    let worst = 0;
    for (const p of setup.allParams) worst = Math.max(worst, p.sub(group.broadcast(p.detach().clone(), 0)).abs().max().item());
    return group.allReduce(tensor([worst]), 'max').item();
  }),
);
if (group.rank === 0) console.log(JSON.stringify({ ms, losses, drift }));
dp.callback.close!();
group.destroy();
