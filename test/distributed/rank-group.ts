// The worker side of the distributed tests: join the group the test described (a FileStore path in
// CCP_DML_TEST_STORE_FILE, else the torchrun variables). A worker file picked up by the test runner's file
// pattern, without RANK, is not a rank and exits at once.
import { distributed } from '../../src/index.js';
import type { ProcessGroup } from '../../src/distributed/index.js';

export function isLaunchedRank(): boolean {
  return process.env.RANK !== undefined || process.env.MASTER_ADDR !== undefined;
}

export function joinTestGroup(): ProcessGroup {
  const timeoutMs = Number(process.env.CCP_DML_TEST_TIMEOUT_MS ?? 20000);
  const storeFile = process.env.CCP_DML_TEST_STORE_FILE;
  return storeFile
    ? distributed.ProcessGroup.create({
        rank: Number(process.env.RANK),
        worldSize: Number(process.env.WORLD_SIZE),
        timeoutMs,
        rendezvous: { kind: 'file', path: storeFile },
      })
    : distributed.ProcessGroup.fromEnv({ timeoutMs });
}
