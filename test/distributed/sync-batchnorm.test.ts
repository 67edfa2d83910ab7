// SyncBatchNorm: 2 ranks with half the batch each and synchronised BatchNorm train exactly as one process with
// the whole batch (losses, weights, running statistics); per-rank BatchNorm does not (the check can fail).
import test from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRanks, lastJson, withTempDir } from './spawn-ranks.js';
import { runSyncBnCase, type SyncBnResult } from './sync-bn-case.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'sync-bn-worker.js');
const TOL = 1e-5;

function maxDiff(a: SyncBnResult, b: SyncBnResult): { loss: number; params: number; stats: number } {
  const d = (x: number[], y: number[]) => Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
  return {
    loss: d(a.losses, b.losses),
    params: Math.max(...a.params.map((p, i) => d(p, b.params[i]!))),
    stats: Math.max(d(a.runningMean, b.runningMean), d(a.runningVar, b.runningVar)),
  };
}

const ranks = (scenario: string) =>
  withTempDir(
    async (dir) =>
      (await runRanks(WORKER, 2, () => ({ CCP_DML_TEST_STORE_FILE: join(dir, 'store'), CCP_DML_TEST_SCENARIO: scenario }))).map(lastJson) as SyncBnResult[],
  );

test('2 ranks with SyncBatchNorm = 1 process with the global batch; per-rank BatchNorm differs', { timeout: 120_000 }, async () => {
  const single = runSyncBnCase(null, false);
  const synced = await ranks('sync');
  for (const [rank, r] of synced.entries()) {
    assert.equal(r.synced, 1, 'one BatchNorm layer synchronised');
    const d = maxDiff(r, single);
    assert.ok(d.loss < TOL && d.params < TOL && d.stats < TOL, `rank ${rank} vs one process: ${JSON.stringify(d)}`);
  }
  const plain = await ranks('plain');
  const d = maxDiff(plain[0]!, single);
  assert.ok(d.stats > 1e-3, `per-rank statistics differ from the global ones: ${JSON.stringify(d)}`);
});
