// A rank started by launchLocal in launcher.test.ts. 'ok': joins the group from the torchrun variables, sums the
// ranks and prints what it saw. 'fail': rank 1 exits 7 at once, the others wait (the launcher must stop them).
import { distributed, tensor } from '../../src/index.js';

const mode = process.argv[2];
if (mode === 'ok') {
  const group = distributed.ProcessGroup.fromEnv({ timeoutMs: 30000 });
  const sum = group.allReduce(tensor([group.rank]), 'sum').item();
  console.log(JSON.stringify({ rank: group.rank, localRank: group.localRank, worldSize: group.worldSize, sum, threads: process.env.CCP_DML_THREADS }));
  group.destroy();
} else if (mode === 'fail') {
  if (process.env.RANK === '1') process.exit(7);
  setTimeout(() => undefined, 120_000);
}
// No mode: run by the test runner's file pattern, not by launchLocal; nothing to do.
