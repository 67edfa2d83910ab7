// The start-up check of a distributed run: ranks with the same config (whatever its key order) and code pass;
// a rank with another config or code version makes every rank fail, naming that rank and what differs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed } from '../../src/index.js';
import { runRanks, withTempDir } from './spawn-ranks.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'run-check-worker.js');
const CONFIG = { name: 'r', optimizer: { lr: 0.001, name: 'adam' }, training: { samplesPerClass: 4 } };

test('canonicalJson ignores key order; configDifferences names the differing keys with both values', () => {
  assert.equal(distributed.canonicalJson({ b: 1, a: { d: [1, 2], c: null } }), distributed.canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }));
  assert.deepEqual(distributed.configDifferences(CONFIG, { ...CONFIG, optimizer: { lr: 0.01, name: 'adam' }, extra: true }), [
    'extra (rank 0: unset, here: true)',
    'optimizer.lr (rank 0: 0.001, here: 0.01)',
  ]);
  assert.match(distributed.codeVersion(), /^ccp-dml \d+\.\d+\.\d+/);
});

test('2 ranks with the same config (keys in another order) and code pass the start-up check', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const reordered = { training: { samplesPerClass: 4 }, optimizer: { name: 'adam', lr: 0.001 }, name: 'r' };
    const rs = await runRanks(WORKER, 2, () => ({
      CCP_DML_TEST_STORE_FILE: join(dir, 'store'),
      CCP_DML_TEST_CONFIG_0: JSON.stringify(CONFIG),
      CCP_DML_TEST_CONFIG_1: JSON.stringify(reordered),
    }));
    rs.forEach((r, rank) => assert.equal(r.code, 0, `rank ${rank}: ${r.stdout} ${r.stderr}`));
  }),
);

test('2 ranks, rank 1 with another lr and another code version: both fail, naming rank 1 and what differs', { timeout: 120_000 }, () =>
  withTempDir(async (dir) => {
    const other = { ...CONFIG, optimizer: { lr: 0.01, name: 'adam' } };
    const rs = await runRanks(WORKER, 2, () => ({
      CCP_DML_TEST_STORE_FILE: join(dir, 'store'),
      CCP_DML_TEST_CONFIG_0: JSON.stringify(CONFIG),
      CCP_DML_TEST_CONFIG_1: JSON.stringify(other),
      CCP_DML_TEST_VERSION_0: 'ccp-dml 0.1.0 (git aaaa)',
      CCP_DML_TEST_VERSION_1: 'ccp-dml 0.1.0 (git bbbb)',
    }));
    const messages = rs.map((r, rank) => {
      assert.equal(r.code, 2, `rank ${rank} must fail: ${r.stdout} ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!).error as string;
    });
    for (const m of messages) {
      assert.match(m, /the code version of rank\(s\) 1 differs from rank 0's/);
      assert.match(m, /the config of rank\(s\) 1 differs from rank 0's/);
    }
    assert.match(messages[1]!, /rank 0 runs ccp-dml 0\.1\.0 \(git aaaa\), this rank ccp-dml 0\.1\.0 \(git bbbb\)/);
    assert.match(messages[1]!, /optimizer\.lr \(rank 0: 0\.001, here: 0\.01\)/);
  }),
);
