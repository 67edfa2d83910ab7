// The SyncBatchNorm case shared by sync-batchnorm.test.ts (one process, global batch) and its worker (2 ranks,
// half the rows each): a conv + BatchNorm + linear net, 3 SGD steps on a fixed batch of 6, the loss over the
// (all-gathered) global batch, gradients averaged by the GradientReducer. Returns losses, weights, BN buffers.
import { randn, tidy, noGrad, manualSeed, tensor, type Tensor } from '../../src/index.js';
import { Sequential, Conv2d, BatchNorm2d, ReLU, AdaptiveAvgPool2d, Flatten, Linear } from '../../src/engine/nn/index.js';
import { GradientReducer, allGatherWithGrad, syncBatchNorm, type ProcessGroup } from '../../src/distributed/index.js';

export const ROWS = 6;

export interface SyncBnResult {
  losses: number[];
  params: number[][];
  runningMean: number[];
  runningVar: number[];
  synced: number;
}

export function runSyncBnCase(group: ProcessGroup | null, sync: boolean): SyncBnResult {
  manualSeed(5);
  const net = new Sequential(new Conv2d(2, 3, 3, { padding: 1 }), new BatchNorm2d(3), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(3, 4));
  net.train();
  const x = randn([ROWS, 2, 5, 5]);
  const weights = tensor(
    Array.from({ length: ROWS * 4 }, (_, i) => ((i % 7) - 3) / 3),
    [ROWS, 4],
  );
  const ws = group?.worldSize ?? 1;
  const rank = group?.rank ?? 0;
  const [start, end] = [(rank * ROWS) / ws, ((rank + 1) * ROWS) / ws];
  const local = x.narrow(0, start, end - start);
  const synced = group && sync ? syncBatchNorm(net, group) : 0;
  const params = net.parameters();
  const reducer = group ? new GradientReducer(group, params) : null;
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    losses.push(
      tidy(() => {
        const out = net.forward(local);
        const all: Tensor = group ? allGatherWithGrad(group, out) : out;
        const loss = all.mul(weights).sum().add(all.square().sum().mul(0.1));
        loss.backward();
        return loss.item();
      }),
    );
    reducer?.reduce();
    noGrad(() =>
      params.forEach((p) => {
        p.copy_(p.sub(p.grad!.mul(0.1)));
        p.grad = null;
      }),
    );
  }
  const bn = net
    .namedModules()
    .map(([, m]) => m)
    .find((m): m is BatchNorm2d => m instanceof BatchNorm2d)!;
  return {
    losses,
    params: params.map((p) => p.toArray() as number[]).map((a) => a.flat(Infinity) as number[]),
    runningMean: bn.runningMean.toArray() as number[],
    runningVar: bn.runningVar.toArray() as number[],
    synced,
  };
}
