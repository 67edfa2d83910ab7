// kill -9 of one rank in the middle of `ccp-dml train --nproc 2`: the launcher exits non-zero naming the dead
// rank, the surviving rank says which rank died, the last checkpoint is intact, and `--resume --nproc 2`
// finishes the run. No rank writes outside the run folder, so the kill leaves nothing behind in TMPDIR.
// (Linux: the rank's pid is found through /proc.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyRun } from '../helpers/tiny-run.js';
import { tinyNprocTrainArgs, withTempDir } from './spawn-ranks.js';

const main = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'dist/src/cli/main.js');
const baseEnv = { ...process.env, CCP_DML_THREADS: '2' };

/** The child of `parent` whose environment says RANK=<rank>, or null. */
function rankPid(parent: number, rank: number): number | null {
  try {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children.find((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) ?? null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'kill -9 of rank 1 mid-run: non-zero exit naming rank 1, checkpoint intact, --resume --nproc 2 finishes',
  { timeout: 300_000, skip: process.platform !== 'linux' && 'needs /proc' },
  () =>
    withTempDir(async (dir) => {
      const { imagesDir } = await makeTinyRun(dir, { classes: 6, perClass: 4 });
      const out = join(dir, 'out');
      const args = tinyNprocTrainArgs(imagesDir, out, 12, 20, ['--dist-timeout', '30']);
      // The OS temp dir of every process is ours: a file a rank left there (it cannot clean up after kill -9) shows.
      const env = { ...baseEnv, TMPDIR: join(dir, 'tmp') };
      mkdirSync(env.TMPDIR);
      const ckpt = join(out, 'r', 'checkpoint.safetensors');
      const launcher = spawn(process.execPath, [main, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      launcher.stderr.on('data', (d) => (stderr += d));
      let closed = false;
      const exited = new Promise<number | null>((r) =>
        launcher.on('close', (code) => {
          closed = true;
          r(code);
        }),
      );
      // A run that fails before its first checkpoint fails the test at once, with the run's own message.
      while (!existsSync(ckpt)) {
        assert.ok(!closed, `the run ended before its first checkpoint:\n${stderr}`);
        await sleep(50);
      }
      const victim = rankPid(launcher.pid!, 1);
      assert.ok(victim, 'rank 1 found');
      const killedAt = Date.now();
      process.kill(victim, 'SIGKILL');
      const code = await exited;
      assert.notEqual(code, 0);
      assert.ok(Date.now() - killedAt < 30_000, 'ended within the collective timeout');
      assert.match(stderr, /rank 1 of 2 was killed by SIGKILL/);
      assert.match(stderr, /rank 1 \(pid \d+ on [^)]+\) is gone \(killed or crashed\)/, 'rank 0 names the dead rank');
      assert.deepEqual(readdirSync(env.TMPDIR), [], 'the killed rank left nothing in TMPDIR');
      assert.deepEqual(readdirSync(out), ['r'], 'one run folder');
      const resumed = spawnSync(process.execPath, [main, ...args, '--resume'], { cwd: dir, env, encoding: 'utf8', timeout: 200_000 });
      assert.equal(resumed.status, 0, resumed.stderr);
      const final = JSON.parse(readFileSync(join(out, 'r', 'final-metrics.json'), 'utf8'));
      assert.equal(final.epochs, 12);
      assert.deepEqual(readdirSync(env.TMPDIR), [], 'nothing in TMPDIR after the resumed run');
    }),
);
