// kill -9 of one rank, through the local launcher (TCPStore rendezvous, as in a real run): the other rank
// fails within the collective timeout with a message naming the dead rank and exits non-zero by itself.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed } from '../../src/index.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'fault-worker.js');
const TIMEOUT_MS = 20_000;

async function killOne(victim: number) {
  const out = new Map<number, { stdout: string[]; stderr: string[] }>([
    [0, { stdout: [], stderr: [] }],
    [1, { stdout: [], stderr: [] }],
  ]);
  const r = await distributed.launchLocal({
    nproc: 2,
    threads: 2,
    script: WORKER,
    args: ['loop'],
    graceMs: 2 * TIMEOUT_MS,
    env: { ...process.env, CCP_DML_TEST_VICTIM: String(victim), CCP_DML_TEST_TIMEOUT_MS: String(TIMEOUT_MS) },
    onLine: (rank, stream, line) => out.get(rank)![stream].push(line),
  });
  const survivor = 1 - victim;
  const killedAt = JSON.parse(out.get(victim)!.stdout.at(-1)!).killedAt as number;
  const failedAt = JSON.parse(out.get(survivor)!.stdout.at(-1)!).failedAt as number;
  return { r, survivor, stderr: out.get(survivor)!.stderr.join('\n'), waitedMs: failedAt - killedAt };
}

test('kill -9 of rank 1: rank 0 exits 1 within the collective timeout, naming rank 1 as gone', { timeout: 120_000 }, async (t) => {
  const { r, stderr, waitedMs } = await killOne(1);
  t.diagnostic(`${waitedMs} ms after the kill: ${stderr}`);
  assert.equal(r.firstFailure?.rank, 1);
  assert.equal(r.firstFailure?.signal, 'SIGKILL');
  assert.deepEqual({ code: r.ranks[0]!.code, stopped: r.ranks[0]!.stoppedByLauncher }, { code: 1, stopped: false }, stderr);
  assert.match(stderr, /allReduce on rank 0 of 2 failed: .*rank 1 \(pid \d+ on [^)]+\) is gone \(killed or crashed\)/);
  assert.ok(waitedMs < TIMEOUT_MS, `rank 0 failed ${waitedMs} ms after the kill`);
});

test('kill -9 of rank 0 (the store host): rank 1 exits 1 within the collective timeout, naming rank 0', { timeout: 120_000 }, async (t) => {
  const { r, stderr, waitedMs } = await killOne(0);
  t.diagnostic(`${waitedMs} ms after the kill: ${stderr}`);
  assert.equal(r.firstFailure?.rank, 0);
  assert.deepEqual({ code: r.ranks[1]!.code, stopped: r.ranks[1]!.stoppedByLauncher }, { code: 1, stopped: false }, stderr);
  assert.match(stderr, /allReduce on rank 1 of 2 (failed|timed out): .*rank 0/);
  assert.ok(waitedMs < TIMEOUT_MS + 6000, `rank 1 failed ${waitedMs} ms after the kill`);
});
