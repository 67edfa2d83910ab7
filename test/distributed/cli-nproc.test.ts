// ccp-dml train --nproc 2 as a user runs it: the launcher starts two ranks of the same command, rank 0 alone
// prints the result and writes the run folder (report included), rank 1 writes no file anywhere (TMPDIR stays
// empty), exit code 0; --nproc is checked.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyRun } from '../helpers/tiny-run.js';
import { tinyNprocTrainArgs, withTempDir } from './spawn-ranks.js';
import { withoutNproc } from '../../src/cli/distributed-train.js';

const main = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'dist/src/cli/main.js');

function cli(cwd: string, args: string[], tmp: string) {
  const env = { ...process.env, CCP_DML_THREADS: '2', TMPDIR: tmp };
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd, timeout: 200_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('withoutNproc drops both spellings and keeps everything else', () => {
  assert.deepEqual(withoutNproc(['train', '--nproc', '2', '--epochs', '3', '--nproc=4', '-q']), ['train', '--epochs', '3', '-q']);
});

test('ccp-dml train --nproc 2: two ranks, one result, one run folder, nothing in TMPDIR, exit 0', { timeout: 240_000 }, () =>
  withTempDir(async (dir) => {
    const { imagesDir } = await makeTinyRun(dir, { classes: 6, perClass: 4 });
    const [out, tmp] = [join(dir, 'out'), join(dir, 'tmp')];
    mkdirSync(tmp);
    // With the report: every rank gets the report callback, only rank 0 writes it.
    const args = tinyNprocTrainArgs(imagesDir, out, 2, 2).filter((a) => a !== '--no-report');
    const r = cli(dir, args, tmp);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.match(/run folder: /g)?.length, 1, `only rank 0 prints the result:\n${r.out}`);
    assert.deepEqual(readdirSync(out), ['r'], 'exactly one run folder');
    assert.deepEqual(readdirSync(tmp), [], 'no rank writes into TMPDIR');
    for (const f of ['checkpoint.safetensors', 'model.safetensors', 'final-metrics.json', 'metrics.jsonl', 'report.html'])
      assert.ok(existsSync(join(out, 'r', f)), f);
    const epochs = readFileSync(join(out, 'r', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"epoch"'));
    assert.equal(epochs.length, 2, 'one epoch line per epoch (rank 0 logs alone)');
    const bad = cli(dir, [...args.slice(0, -1), '0'], tmp);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /--nproc must be an integer >= 1, got 0/);
  }),
);
