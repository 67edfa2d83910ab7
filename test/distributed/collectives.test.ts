// Data-parallel collectives across real processes: 2 and 3 workers on loopback, rendezvous through a FileStore
// and through a TCPStore; values of every collective, the differentiable all-gather's gradients against one
// process, and the failures (a peer that never joins, a port in use, a bad address, a dead peer) as errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed, cat, tidy } from '../../src/index.js';
import { rankInput, rankLoss } from './scenario.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
const { ProcessGroup, DistributedError } = distributed;

interface WorkerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runWorker(env: Record<string, string>): Promise<WorkerResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER], {
      env: { ...process.env, CCP_DML_THREADS: '1', OMP_NUM_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function runGroup(worldSize: number, env: (rank: number) => Record<string, string>): Promise<WorkerResult[]> {
  return Promise.all(
    Array.from({ length: worldSize }, (_, rank) => runWorker({ RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(worldSize), ...env(rank) })),
  );
}

function parse(r: WorkerResult, rank: number) {
  assert.equal(r.code, 0, `rank ${rank} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ccp-dml-dist-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** The gradient each rank's rows get, computed in one process: the sum over ranks of each rank's loss. */
function referenceGrads(worldSize: number): number[][] {
  return tidy(() => {
    const xs = Array.from({ length: worldSize }, (_, r) => {
      const x = rankInput(r);
      x.requiresGrad = true;
      return x;
    });
    const global = cat(xs, 0);
    let total = rankLoss(global, 0);
    for (let r = 1; r < worldSize; r++) total = total.add(rankLoss(global, r));
    total.backward();
    return xs.map((x) => Array.from(x.grad!.dataSync() as Float64Array));
  });
}

function checkCollectives(results: ReturnType<typeof parse>[], worldSize: number) {
  const ranks = Array.from({ length: worldSize }, (_, r) => r);
  const sum = ranks.reduce((a, r) => a + r + 1, 0);
  const grads = referenceGrads(worldSize);
  for (const [rank, o] of results.entries()) {
    assert.equal(o.rank, rank);
    assert.deepEqual(o.sum, [sum, 10 * sum]);
    assert.deepEqual(o.avg, [sum / worldSize, (10 * sum) / worldSize]);
    assert.deepEqual(o.max, [worldSize - 1, 0]);
    assert.deepEqual(o.strided, [sum - worldSize, 100, sum - worldSize, 100], 'only the strided column is reduced, in place');
    assert.deepEqual(
      o.started,
      { avg: [sum / worldSize, (2 * sum) / worldSize], strided: [sum - worldSize, 100, sum - worldSize, 100], busy: [12] },
      'allReduceStart: two in flight, waited out of order (and twice), avg and strided handled at wait',
    );
    assert.deepEqual(o.bcast, [(worldSize - 1) * 7 + 1, (worldSize - 1) * 7 + 2], 'broadcast from the last rank');
    const root = worldSize - 1;
    assert.deepEqual(
      o.coalesced,
      {
        values: [
          Array.from({ length: 6 }, (_, i) => 10 * root + i),
          [root + 0.5, root + 1.5],
          Array.from({ length: 8 }, (_, i) => 100 * root + i),
          [root, root + 1, root + 2],
          [root],
        ],
        channelsLast: 'channels_last',
      },
      "broadcastCoalesced: every tensor holds the root's values, in its own layout",
    );
    assert.equal(o.gathered.length, worldSize);
    for (const [r, g] of o.gathered.entries()) {
      assert.deepEqual(g.shape, [r + 1, 2], `rank ${r}'s rows keep their own count`);
      assert.deepEqual(
        g.values,
        Array.from({ length: (r + 1) * 2 }, (_, i) => 100 * r + i),
      );
    }
    assert.deepEqual(o.known, o.gathered, 'allGather with the row counts given gathers the same');
    assert.match(o.rowsError, new RegExp(`allGather: rows \\[.*\\] must give ${worldSize} ranks' first dimensions, this rank's being ${rank + 1}`));
    const rows = ranks.reduce((a, r) => a + r + 1, 0);
    assert.deepEqual(o.catShape, [rows, 2]);
    assert.deepEqual(o.globalShape, [rows, 3]);
    const expectedGlobal = ranks.flatMap((r) => Array.from(rankInput(r).dataSync() as Float64Array));
    assert.deepEqual(o.globalValues, expectedGlobal);
    assert.equal(o.grad.length, grads[rank]!.length);
    for (const [i, g] of o.grad.entries()) {
      assert.ok(
        Math.abs(g - grads[rank]![i]!) <= 1e-12 * (1 + Math.abs(grads[rank]![i]!)),
        `rank ${rank} grad[${i}] ${g} vs single process ${grads[rank]![i]}`,
      );
    }
  }
}

test(
  '2 ranks, FileStore: allReduce sum/avg/max, started all-reduces, broadcast, allGather of uneven batches, barrier, all-gather gradients',
  { timeout: 120_000 },
  () =>
    withTempDir(async (dir) => {
      const results = await runGroup(2, () => ({ CCP_DML_TEST_STORE_FILE: join(dir, 'store') }));
      checkCollectives(results.map(parse), 2);
    }),
);

test('3 ranks, TCPStore on a free port (torchrun variables): the same collectives', { timeout: 120_000 }, async () => {
  const port = await distributed.freeLoopbackPort();
  const results = await runGroup(3, () => ({ MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) }));
  checkCollectives(results.map(parse), 3);
});

test('a peer that dies: the survivor gets an error (no hang, no abort) and the group refuses further collectives', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const results = await runGroup(2, () => ({
      CCP_DML_TEST_STORE_FILE: join(dir, 'store'),
      CCP_DML_TEST_SCENARIO: 'dead-peer',
      CCP_DML_TEST_TIMEOUT_MS: '10000',
    }));
    assert.equal(results[1]!.code, 0);
    assert.equal(results[0]!.code, 3, `rank 0 ends through its own error path: ${results[0]!.stderr}`);
    const o = JSON.parse(results[0]!.stdout.trim().split('\n').pop()!);
    assert.equal(o.name, 'DistributedError');
    assert.match(o.error, /allReduce on rank 0 of 2 (failed|timed out)/);
    assert.match(o.after, /unusable after an earlier failure/);
  }),
);

test('a peer that stalls before a collective: the waiting rank gets a timeout error naming the collective and the timeout', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const results = await runGroup(2, () => ({
      CCP_DML_TEST_STORE_FILE: join(dir, 'store'),
      CCP_DML_TEST_SCENARIO: 'late-peer',
      CCP_DML_TEST_TIMEOUT_MS: '2000',
    }));
    assert.equal(results[0]!.code, 3, `rank 0 ends through its own error path: ${results[0]!.stderr}`);
    const o = JSON.parse(results[0]!.stdout.trim().split('\n').pop()!);
    assert.match(o.error, /allReduce on rank 0 of 2 timed out: .*\(timeout 2000 ms\); a rank did not reach this collective in time/);
    assert.ok(o.waitedMs >= 1500 && o.waitedMs < 15000, `waited ${o.waitedMs} ms for a 2000 ms timeout`);
  }),
);

test('a peer that never joins: joining fails after the timeout with a message naming it', { timeout: 60_000 }, () =>
  withTempDir(async (dir) => {
    const started = Date.now();
    assert.throws(
      () => ProcessGroup.create({ rank: 0, worldSize: 2, timeoutMs: 1500, rendezvous: { kind: 'file', path: join(dir, 'store') } }),
      (err: Error) =>
        err instanceof DistributedError && /rank 0 of 2/.test(err.message) && /timeout 1500 ms/.test(err.message) && /did all 2 ranks start/.test(err.message),
    );
    assert.ok(Date.now() - started >= 1000, 'it waited for the timeout');
  }),
);

test('TCP rendezvous: a port in use and an unreachable address are errors, and the process goes on', { timeout: 60_000 }, async () => {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  try {
    assert.throws(
      () => ProcessGroup.create({ rank: 0, worldSize: 2, timeoutMs: 1500, rendezvous: { kind: 'tcp', host: '127.0.0.1', port } }),
      (err: Error) => err instanceof DistributedError && err.message.includes(`listening on tcp://127.0.0.1:${port}`) && /in use/i.test(err.message),
    );
  } finally {
    await new Promise((resolve) => srv.close(resolve));
  }
  assert.throws(
    () => ProcessGroup.create({ rank: 1, worldSize: 2, timeoutMs: 1500, rendezvous: { kind: 'tcp', host: 'no-such-host.invalid', port: 29500 } }),
    (err: Error) =>
      err instanceof DistributedError && err.message.includes('connecting to tcp://no-such-host.invalid:29500') && /timeout 1500 ms/.test(err.message),
  );
  assert.throws(
    () => ProcessGroup.create({ rank: 2, worldSize: 2, rendezvous: { kind: 'file', path: '/nonexistent' } }),
    /rank must be an integer in 0\.\.1, got 2/,
  );
});

test('torchrun variables: missing or malformed values are named', () => {
  const { readLaunchEnv } = distributed;
  assert.throws(() => readLaunchEnv({}), /MASTER_ADDR is not set/);
  assert.throws(() => readLaunchEnv({ MASTER_ADDR: 'h', MASTER_PORT: 'x', WORLD_SIZE: '2', RANK: '0' }), /MASTER_PORT="x" must be an integer/);
  assert.throws(() => readLaunchEnv({ MASTER_ADDR: 'h', MASTER_PORT: '1', WORLD_SIZE: '2', RANK: '2' }), /RANK=2 must be below WORLD_SIZE=2/);
  assert.deepEqual(readLaunchEnv({ MASTER_ADDR: 'h', MASTER_PORT: '29500', WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1' }), {
    masterAddr: 'h',
    masterPort: 29500,
    worldSize: 4,
    rank: 3,
    localRank: 1,
  });
});
