// launchLocal: N ranks with the torchrun variables and a share of the threads; the exit code of the first
// failing rank, the others stopped instead of left waiting.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed } from '../../src/index.js';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'launch-probe.js');

test('launchLocal: 2 ranks meet through the torchrun variables, threads are split, exit code 0', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const r = await distributed.launchLocal({
    nproc: 2,
    threads: 4,
    script: PROBE,
    args: ['ok'],
    onLine: (_rank, stream, line) => {
      if (stream === 'stdout') lines.push(line);
    },
  });
  assert.equal(r.exitCode, 0, JSON.stringify(r));
  assert.equal(r.firstFailure, null);
  const seen = lines.map((l) => JSON.parse(l)).sort((a, b) => a.rank - b.rank);
  assert.deepEqual(seen, [
    { rank: 0, localRank: 0, worldSize: 2, sum: 1, threads: '2' },
    { rank: 1, localRank: 1, worldSize: 2, sum: 1, threads: '2' },
  ]);
});

test('launchLocal: a failing rank gives its exit code and the waiting ranks are stopped', { timeout: 120_000 }, async () => {
  const r = await distributed.launchLocal({ nproc: 3, threads: 3, script: PROBE, args: ['fail'], graceMs: 1000, onLine: () => undefined });
  assert.equal(r.exitCode, 7);
  assert.equal(r.firstFailure?.rank, 1);
  assert.deepEqual(
    r.ranks.map((x) => x.stoppedByLauncher),
    [true, false, true],
  );
  assert.ok(r.ranks.every((x) => (x.rank === 1 ? x.code === 7 : x.signal === 'SIGTERM')));
});

test('launchLocal: nproc is checked', async () => {
  await assert.rejects(distributed.launchLocal({ nproc: 0, script: PROBE }), /--nproc must be an integer >= 1, got 0/);
});
