// One rank of bench:dist's training-step comparison (ours): the trainer's data-parallel path on a fixed random
// global batch — this rank's slice (rankSlice), forward, embeddings and labels all-gathered (allGatherWithGrad),
// the loss over the global batch, backward, GradientReducer (bucketed average) + BatchNorm buffers from rank 0
// (what syncCallback's afterBackward does), then the trainer's gradient pipeline and Adam step.
// argv: <model small_cnn|bninception> <global batch> <image size> <warm-up steps> <timed steps> [overlap|after]
// (after: the gradient all-reduce after backward instead of during it, GradientReducer's overlap: false).
// Rank 0 prints {"ms": [step times], "losses": [...]}; each step starts after a barrier so that ranks time together.
import { randn, int64, tidy, manualSeed, noGrad } from '../../src/engine/index.js';
import { ProcessGroup, GradientReducer, allGatherWithGrad } from '../../src/distributed/index.js';
import { rankSlice } from '../../src/data/rank-slice-sampler.js';
import { parseRunConfig } from '../../src/training/config.js';
import { buildModel, buildLoss, buildOptimizer } from '../../src/training/build.js';
import { buildGradientPipeline } from '../../src/training/gradient-pipeline.js';
import { nowMs } from '../common/index.js';
import { stepRunConfig } from './step-config.js';

const [modelName, batch, size, warmupArg, timedArg, mode] = process.argv.slice(2) as [string, string, string, string, string, string?];
const warmup = Number(warmupArg);
const timed = Number(timedArg);
const B = Number(batch);
const large = modelName === 'bninception';
const image: [number, number, number] = [large ? 3 : 1, Number(size), Number(size)];
const group = ProcessGroup.fromEnv();
manualSeed(1);
const cfg = parseRunConfig(stepRunConfig(modelName, image), 'bench:dist step config');
const model = buildModel(cfg, image);
model.train();
const loss = buildLoss(cfg, 8);
const setup = buildOptimizer(cfg, model, loss);
const pipeline = buildGradientPipeline(cfg.optimizer, setup, loss);
noGrad(() => [...model.stateDict().values()].forEach((t) => group.broadcast(t, 0)));
const reducer = new GradientReducer(group, setup.allParams, { overlap: mode !== 'after' });
const buffers = model
  .namedBuffers()
  .map(([, b]) => b)
  .filter((b) => b.dtype.startsWith('float'));

// The global batch: 8 classes x B/8 samples; this rank keeps its slice.
const { start, end } = rankSlice(B, group.rank, group.worldSize);
const x = randn([B, ...image])
  .narrow(0, start, end - start)
  .contiguous();
const y = int64(Array.from({ length: B }, (_, i) => i % 8))
  .narrow(0, start, end - start)
  .contiguous();

function step(): number {
  const value = tidy(() => {
    const emb = model.forward(x);
    const all = group.worldSize > 1 ? allGatherWithGrad(group, emb) : emb;
    const labels = group.worldSize > 1 ? group.allGatherCat(y) : y;
    const out = loss.forward(all, labels);
    out.backward();
    return out.item();
  });
  reducer.reduce();
  if (group.worldSize > 1) noGrad(() => buffers.forEach((b) => group.broadcast(b, 0)));
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
if (group.rank === 0) console.log(JSON.stringify({ ms, losses }));
group.destroy();
