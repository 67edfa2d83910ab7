// train(config, { distributed }) on 2 processes against a single process (float32 MLP without BatchNorm,
// ccp/contrastive): the same epoch losses, validation metrics, CCP decisions, test metrics and weights up to
// float32 rounding; rank 0 alone writes the run folder. Then a 2-rank run stopped after one epoch and resumed
// (by 2 ranks) ends where the straight run ends; a single-process checkpoint resumes on 2 ranks (world size may change).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRanks, runWorker, lastJson, withTempDir } from './spawn-ranks.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'train-worker.js');

function near(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);
}

type Out = {
  history: { loss: number; validation: Record<string, number>; ccp: unknown }[];
  test: Record<string, number> | null;
  weights: [string, number[]][] | null;
};

function sameRun(got: Out, ref: Out, what: string): void {
  assert.equal(got.history.length, ref.history.length, what);
  ref.history.forEach((h, e) => {
    near(got.history[e]!.loss, h.loss, `${what} epoch ${e + 1} loss`);
    for (const k of Object.keys(h.validation)) near(got.history[e]!.validation[k]!, h.validation[k]!, `${what} epoch ${e + 1} ${k}`);
    assert.deepEqual(got.history[e]!.ccp, h.ccp, `${what} epoch ${e + 1}: same CCP decision`);
  });
  for (const k of Object.keys(ref.test ?? {})) near(got.test![k]!, ref.test![k]!, `${what} test ${k}`);
  ref.weights!.forEach(([n, w], i) => w.forEach((v, j) => near(got.weights![i]![1][j]!, v, `${what} ${n}[${j}]`)));
}

test(
  'train() on 2 ranks = train() in 1 process (losses, validation, CCP decisions, test metrics, weights); rank 0 writes the folder',
  { timeout: 240_000 },
  () =>
    withTempDir(async (dir) => {
      const [single, ranks] = await Promise.all([
        runWorker(WORKER, { CCP_DML_TEST_RUN_DIR: join(dir, 'one') }),
        runRanks(WORKER, 2, () => ({ CCP_DML_TEST_RUN_DIR: join(dir, 'two'), CCP_DML_TEST_STORE_FILE: join(dir, 'store') })),
      ]);
      const ref: Out = lastJson(single, 0);
      const [r0, r1] = ranks.map(lastJson) as Out[];
      assert.equal(ref.history.length, 3);
      sameRun(r0!, ref, 'rank 0');
      assert.equal(r1!.weights, null);
      assert.deepEqual(r1!.history, r0!.history, 'rank 1 took the same decisions on the same numbers');
      assert.deepEqual(readdirSync(join(dir, 'two')).sort(), readdirSync(join(dir, 'one')).sort(), 'the same run files, written once');
    }),
);

test('model.syncBatchNorm: train() on 2 ranks with a BatchNorm MLP = train() in 1 process', { timeout: 240_000 }, () =>
  withTempDir(async (dir) => {
    const env = { CCP_DML_TEST_SYNC_BN: '1', CCP_DML_TEST_EPOCHS: '2' };
    const [single, ranks] = await Promise.all([
      runWorker(WORKER, { CCP_DML_TEST_RUN_DIR: join(dir, 'one'), ...env }),
      runRanks(WORKER, 2, () => ({ CCP_DML_TEST_RUN_DIR: join(dir, 'two'), CCP_DML_TEST_STORE_FILE: join(dir, 'store'), ...env })),
    ]);
    const ref: Out = lastJson(single, 0);
    assert.ok(
      ref.weights!.some(([n]) => n.endsWith('running_var')),
      'the model has BatchNorm',
    );
    sameRun(lastJson(ranks[0]!, 0) as Out, ref, 'rank 0 (SyncBatchNorm)');
  }),
);

test('2 ranks stopped after epoch 1 and resumed by 2 ranks end where the straight 2-rank run ends', { timeout: 240_000 }, () =>
  withTempDir(async (dir) => {
    const run = (tag: string, env: Record<string, string>) =>
      runRanks(WORKER, 2, () => ({
        CCP_DML_TEST_RUN_DIR: join(dir, tag),
        CCP_DML_TEST_STORE_FILE: join(dir, `store-${tag}-${env.CCP_DML_TEST_RESUME ?? '0'}`),
        ...env,
      }));
    const [straight, first] = await Promise.all([run('straight', {}), run('resumed', { CCP_DML_TEST_STOP_AFTER: '1' })]);
    assert.equal(lastJson(first[0]!, 0).stopReason, 'interrupted');
    assert.ok(existsSync(join(dir, 'resumed', 'checkpoint.safetensors')));
    const second = await run('resumed', { CCP_DML_TEST_RESUME: '1' });
    sameRun(lastJson(second[0]!, 0), lastJson(straight[0]!, 0), 'resumed rank 0');
  }),
);

test('a single-process run stopped after epoch 1 and resumed by 2 ranks ends where the straight single run ends, with a warning', { timeout: 240_000 }, () =>
  withTempDir(async (dir) => {
    const [straight, first] = await Promise.all([
      runWorker(WORKER, { CCP_DML_TEST_RUN_DIR: join(dir, 'straight') }),
      runWorker(WORKER, { CCP_DML_TEST_RUN_DIR: join(dir, 'resumed'), CCP_DML_TEST_STOP_AFTER: '1' }),
    ]);
    assert.equal(lastJson(first, 0).stopReason, 'interrupted');
    const second = await runRanks(WORKER, 2, () => ({
      CCP_DML_TEST_RUN_DIR: join(dir, 'resumed'),
      CCP_DML_TEST_STORE_FILE: join(dir, 'store'),
      CCP_DML_TEST_RESUME: '1',
    }));
    const r0 = lastJson(second[0]!, 0);
    sameRun(r0, lastJson(straight, 0), 'resumed on 2 ranks');
    assert.ok(
      r0.warnings.some((w: string) => /resumed a checkpoint written by 1 process\(es\) with 2/.test(w)),
      JSON.stringify(r0.warnings),
    );
  }),
);
