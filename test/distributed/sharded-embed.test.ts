// Sharded evaluation on 2 processes: the gathered embeddings are the single-process ones, bit for bit and in
// the original order (also when a rank gets no batch), so the metrics are exactly the single-process metrics.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shardBatches } from '../../src/training/sharded-embed.js';
import { runRanks, lastJson, withTempDir } from './spawn-ranks.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'sharded-embed-worker.js');

test('shardBatches: contiguous runs covering every batch once, sizes within one', () => {
  for (const [batches, world] of [
    [6, 2],
    [7, 3],
    [1, 2],
    [0, 2],
    [5, 5],
  ] as const) {
    const runs = Array.from({ length: world }, (_, r) => shardBatches(batches, r, world));
    assert.equal(runs[0]!.first, 0);
    assert.equal(runs[world - 1]!.end, batches);
    runs.forEach((s, r) => {
      if (r > 0) assert.equal(s.first, runs[r - 1]!.end);
    });
    const sizes = runs.map((s) => s.end - s.first);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${batches} over ${world}: ${sizes}`);
  }
});

test('2 ranks: sharded embeddings and metrics equal the single-process ones exactly', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const results = (await runRanks(WORKER, 2, () => ({ CCP_DML_TEST_STORE_FILE: join(dir, 'store') }))).map(lastJson);
    for (const [rank, o] of results.entries()) {
      for (const name of ['uneven', 'tiny']) {
        const c = o[name];
        assert.equal(c.whole.labels.length, name === 'uneven' ? 23 : 3);
        assert.deepEqual(c.sharded, c.whole, `rank ${rank}, ${name}: gathered rows in the original order`);
        assert.deepEqual(c.shardedMetrics, c.wholeMetrics, `rank ${rank}, ${name}: metrics`);
      }
    }
    assert.ok(results[0].uneven.wholeMetrics.mapAtR > 0);
  }),
);
