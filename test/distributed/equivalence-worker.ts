// A rank of equivalence.test.ts: K SGD steps of the float64 MLP on this rank's slice of each global batch,
// the loss over the all-gathered global batch, gradients averaged by the GradientReducer (buckets all-reduced
// during backward, or after it with CCP_DML_TEST_OVERLAP=0). For CCP: proxies
// placed from a pool embedded sharded, two "epochs" of which the second does not improve, so a projection
// (new proxies, the proximal term) happens mid-run. Prints the losses, the final weights, proxy checksums.
import { createHash } from 'node:crypto';
import { tensor, int64, tidy, noGrad, manualSeed, type Tensor } from '../../src/index.js';
import { SGD } from '../../src/engine/optim/index.js';
import { GradientReducer } from '../../src/distributed/index.js';
import { MPerClassSampler, OnePerClassSampler } from '../../src/data/index.js';
import { isCcpLoss } from '../../src/ccp/index.js';
import { XBM } from '../../src/losses/index.js';
import { DataParallel } from '../../src/training/distributed/data-parallel.js';
import { isLaunchedRank, joinTestGroup } from './rank-group.js';
import { features, mlpParams, mlpForward, equivalenceLoss, LABELS, IN, CLASSES } from './equivalence-case.js';

if (!isLaunchedRank()) process.exit(0);
const group = joinTestGroup();
const dp = new DataParallel({ group });
const out: Record<string, unknown> = { worldSize: group.worldSize };
const X = features();
const rowsOf = (idx: readonly number[]) =>
  tensor(Float64Array.from(idx.flatMap((i) => Array.from(X.subarray(i * IN, (i + 1) * IN)))), [idx.length, IN], { dtype: 'float64' });

function sha256(...tensors: Tensor[]): string {
  const h = createHash('sha256');
  for (const t of tensors) h.update(noGrad(() => (t.dtype === 'int64' ? Buffer.from(JSON.stringify(t.toArray())) : t.toFloat64Array())));
  return h.digest('hex');
}

for (const name of (process.env.CCP_DML_TEST_LOSSES ?? '').split(',')) {
  manualSeed(1);
  const params = mlpParams();
  const loss = equivalenceLoss(name);
  const opt = new SGD([...params, ...loss.parameters()], { lr: 0.05, momentum: 0.9 });
  const reducer = new GradientReducer(group, opt.params(), { bucketBytes: 200, overlap: process.env.CCP_DML_TEST_OVERLAP !== '0' });
  let startedDuringBackward = 0;
  const sampler = dp.sliceSampler(new MPerClassSampler(LABELS, { m: 2, classesPerBatch: 4, seed: 3 }));
  const controller = isCcpLoss(loss) ? loss.controller : null;
  const pool = new OnePerClassSampler(LABELS, { seed: 4 });
  const ctx = {
    parameters: params.map((p, i) => [`p${i}`, p] as const),
    samplePool: async (bPrime: number) => {
      const idx = Array.from({ length: bPrime }, () => pool.span()).flat();
      const emb = dp.forwardSharded(idx.length, 3, (s, e) => mlpForward(params, rowsOf(idx.slice(s, e))));
      return tidy(() => emb.reshape([bPrime, CLASSES, -1]).transpose(0, 1).contiguous());
    },
  };
  if (controller) await controller.onTrainBegin(ctx);
  const losses: number[] = [];
  for (let step = 1; step <= 6; step++) {
    const idx = sampler.next()!;
    losses.push(
      tidy(() => {
        const g = dp.gatherBatch(mlpForward(params, rowsOf(idx)), int64(idx.map((i) => LABELS[i]!)));
        const v = loss.forward(g.embeddings, g.labels);
        v.backward();
        return v.item();
      }),
    );
    reducer.reduce();
    startedDuringBackward += reducer.startedDuringBackward;
    controller?.applyRegularizer(params);
    opt.step();
    opt.zeroGrad();
    if (controller && step % 2 === 0 && step < 6) await controller.onEpochEnd(step === 2 ? 0.5 : 0.4, ctx);
  }
  reducer.dispose();
  const memory = loss instanceof XBM ? noGrad(() => loss.stateDict()) : null;
  out[name] = {
    losses,
    // XBM: the memory after the last step (all-gathered rows on every rank) and its bitwise checksum.
    memory: memory ? memory['xbm.embeddings']!.toArray() : null,
    memoryChecksum: memory ? sha256(memory['xbm.embeddings']!, memory['xbm.labels']!, memory['xbm.meta']!) : null,
    weights: noGrad(() => [...params, ...loss.parameters()].map((p) => p.toArray())),
    projections: controller?.history.length ?? 0,
    buckets: reducer.buckets.length,
    startedDuringBackward,
    proxyChecksum: controller ? sha256(controller.proxies.proxies) : null,
  };
}
console.log(JSON.stringify(out));
group.destroy();
