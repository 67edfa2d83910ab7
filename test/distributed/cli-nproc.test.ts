// ccp-dml train --nproc 2 as a user runs it: the launcher starts two ranks of the same command, rank 0 alone
// prints the result and writes the run folder, exit code 0; --nproc is checked.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyRun } from '../helpers/tiny-run.js';
import { tinyNprocTrainArgs, withTempDir } from './spawn-ranks.js';
import { withoutNproc } from '../../src/cli/distributed-train.js';

const main = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'dist/src/cli/main.js');

function cli(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd, timeout: 200_000, env: { ...process.env, CCP_DML_THREADS: '2' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('withoutNproc drops both spellings and keeps everything else', () => {
  assert.deepEqual(withoutNproc(['train', '--nproc', '2', '--epochs', '3', '--nproc=4', '-q']), ['train', '--epochs', '3', '-q']);
});

test('ccp-dml train --nproc 2: two ranks, one result, one run folder, exit 0', { timeout: 240_000 }, () =>
  withTempDir(async (dir) => {
    const { imagesDir } = await makeTinyRun(dir, { classes: 6, perClass: 4 });
    const args = tinyNprocTrainArgs(imagesDir, dir, 2, 2);
    const r = cli(dir, args);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.match(/run folder: /g)?.length, 1, `only rank 0 prints the result:\n${r.out}`);
    for (const f of ['checkpoint.safetensors', 'model.safetensors', 'final-metrics.json', 'metrics.jsonl']) assert.ok(existsSync(join(dir, 'r', f)), f);
    const epochs = readFileSync(join(dir, 'r', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"epoch"'));
    assert.equal(epochs.length, 2, 'one epoch line per epoch (rank 0 logs alone)');
    const bad = cli(dir, [...args.slice(0, -1), '0']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /--nproc must be an integer >= 1, got 0/);
  }),
);
