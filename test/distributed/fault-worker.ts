// A rank of fault.test.ts, started by launchLocal: all-reduces in a loop, as training steps would; rank
// CCP_DML_TEST_VICTIM kills itself with SIGKILL after a few. The others must fail with an error naming it and
// exit non-zero, as the CLI does (message on stderr, exit code 1).
import { distributed, tensor } from '../../src/index.js';

const mode = process.argv[2];
if (mode === 'loop') {
  const group = distributed.ProcessGroup.fromEnv({ timeoutMs: Number(process.env.CCP_DML_TEST_TIMEOUT_MS ?? 20000) });
  const victim = Number(process.env.CCP_DML_TEST_VICTIM);
  try {
    for (let step = 0; step < 10_000; step++) {
      if (step === 5 && group.rank === victim) {
        console.log(JSON.stringify({ killedAt: Date.now() }));
        process.kill(process.pid, 'SIGKILL');
      }
      group.allReduce(tensor([step, group.rank]), 'sum');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    process.exit(0);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    console.log(JSON.stringify({ failedAt: Date.now() }));
    process.exit(1);
  }
}
// No mode: run by the test runner's file pattern, not by launchLocal; nothing to do.
