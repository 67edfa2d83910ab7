// A rank of the distributed tests: joins a group (FileStore or TCPStore per the CCP_DML_TEST_* variables and the
// torchrun ones), runs one scenario and prints one JSON line with what it saw. Run by collectives.test.ts.
import { distributed, tensor, tidy, type Tensor } from '../../src/index.js';
import { rankInput, rankLoss } from './scenario.js';

const { ProcessGroup, allGatherWithGrad } = distributed;
const scenario = process.env.CCP_DML_TEST_SCENARIO ?? 'collectives';
const timeoutMs = Number(process.env.CCP_DML_TEST_TIMEOUT_MS ?? 20000);
const storeFile = process.env.CCP_DML_TEST_STORE_FILE;

// Without the launcher's variables this file was picked up by the test runner's file pattern: not a rank.
if (process.env.RANK === undefined && process.env.MASTER_ADDR === undefined) process.exit(0);

const group = storeFile
  ? ProcessGroup.create({ rank: Number(process.env.RANK), worldSize: Number(process.env.WORLD_SIZE), timeoutMs, rendezvous: { kind: 'file', path: storeFile } })
  : ProcessGroup.fromEnv({ timeoutMs });
const { rank, worldSize } = group;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);

if (scenario === 'collectives') {
  const out = tidy(() => {
    const sum = group.allReduce(tensor([rank + 1, 10 * (rank + 1)], undefined, { dtype: 'float64' }), 'sum');
    const avg = group.allReduce(tensor([rank + 1, 10 * (rank + 1)], undefined, { dtype: 'float64' }), 'avg');
    const max = group.allReduce(tensor([rank, -rank], undefined, { dtype: 'float32' }), 'max');
    // a strided view: reduced through a contiguous copy, written back in place
    const base = tensor(
      [
        [rank, 100],
        [rank, 100],
      ],
      undefined,
      { dtype: 'float32' },
    );
    group.allReduce(base.slice(1, 0, 1), 'sum');
    // started all-reduces overlap with work on this thread; waited out of order, on a strided view too
    const a = tensor([rank + 1, 2 * (rank + 1)], undefined, { dtype: 'float64' });
    const b = tensor(
      [
        [rank, 100],
        [rank, 100],
      ],
      undefined,
      { dtype: 'float32' },
    );
    const pendingA = group.allReduceStart(a, 'avg');
    const pendingB = group.allReduceStart(b.slice(1, 0, 1), 'sum');
    const busy = tensor([1, 2, 3]).mul(2).sum();
    pendingB.wait();
    pendingA.wait();
    pendingA.wait();
    const started = { avg: values(a), strided: values(b), busy: values(busy) };
    const bcast = group.broadcast(tensor([rank * 7 + 1, rank * 7 + 2], undefined, { dtype: 'float32' }), worldSize - 1);
    // many tensors of three dtypes (one channels_last) in one collective per dtype, from the last rank, in place
    const many = [
      tensor(
        Array.from({ length: 6 }, (_, i) => 10 * rank + i),
        [2, 3],
        { dtype: 'float32' },
      ),
      tensor([rank + 0.5, rank + 1.5], [2], { dtype: 'float64' }),
      tensor(
        Array.from({ length: 8 }, (_, i) => 100 * rank + i),
        [1, 2, 2, 2],
        { dtype: 'float32' },
      ).toChannelsLast(),
      tensor([rank, rank + 1, rank + 2], [3], { dtype: 'int64' }),
      tensor([rank], [1], { dtype: 'float32' }),
    ];
    distributed.broadcastCoalesced(group, many, worldSize - 1);
    const coalesced = { values: many.map(values), channelsLast: many[2]!.memoryFormat };
    // rank r holds r+1 rows: a last, smaller batch
    const mine = tensor(
      Array.from({ length: (rank + 1) * 2 }, (_, i) => 100 * rank + i),
      [rank + 1, 2],
      { dtype: 'float32' },
    );
    const gathered = group.allGather(mine).map((t) => ({ shape: t.shape, values: values(t) }));
    const cat = group.allGatherCat(mine);
    // The same with every rank's row count given (no shape exchange); a wrong count is refused before any transfer.
    const counts = Array.from({ length: worldSize }, (_, r) => r + 1);
    const known = group.allGather(mine, counts).map((t) => ({ shape: t.shape, values: values(t) }));
    let rowsError = '';
    try {
      group.allGather(mine, counts.slice(0, -1)); // one count short: every rank refuses, none transfers
    } catch (e) {
      rowsError = (e as Error).message;
    }
    group.barrier();
    // differentiable all-gather
    const x = rankInput(rank);
    x.requiresGrad = true;
    const global = allGatherWithGrad(group, x);
    rankLoss(global, rank).backward();
    return {
      sum: values(sum),
      avg: values(avg),
      started,
      max: values(max),
      strided: values(base),
      bcast: values(bcast),
      coalesced,
      gathered,
      known,
      rowsError,
      catShape: cat.shape,
      globalShape: global.shape,
      globalValues: values(global.detach()),
      grad: values(x.grad!),
    };
  });
  console.log(JSON.stringify({ rank, worldSize, ...out }));
  group.destroy();
} else if (scenario === 'late-peer') {
  // rank 1 is alive but does not reach the collective in time: rank 0's allReduce must end in a timeout error.
  group.barrier();
  if (rank === 1) {
    const until = Date.now() + 2 * timeoutMs;
    while (Date.now() < until) {
      /* busy: alive, connected, not calling allReduce */
    }
    process.exit(0);
  }
  const started = Date.now();
  try {
    group.allReduce(tensor([1, 2, 3]), 'sum');
    console.log(JSON.stringify({ rank, error: null }));
  } catch (err) {
    console.log(JSON.stringify({ rank, error: (err as Error).message, waitedMs: Date.now() - started }));
  }
  process.exit(3);
} else if (scenario === 'dead-peer') {
  // rank 1 leaves without a word; rank 0's next collective must fail with an error, not hang or abort.
  group.barrier();
  if (rank === 1) process.exit(0);
  try {
    group.allReduce(tensor([1, 2, 3]), 'sum');
    console.log(JSON.stringify({ rank, error: null }));
  } catch (err) {
    let after = '';
    try {
      group.barrier();
    } catch (e) {
      after = (e as Error).message;
    }
    console.log(JSON.stringify({ rank, error: (err as Error).message, name: (err as Error).name, after }));
  }
  process.exitCode = 3;
}
