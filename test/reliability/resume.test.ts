// Resume equals what it says: a run killed with SIGKILL at an arbitrary moment and resumed ends with
// byte-identical weights and one metrics line per epoch; config changes hidden by a deleted config.json are
// refused; stale temporary files of a killed checkpoint write are removed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../../src/training/trainer.js';
import { loadSafetensors } from '../../src/engine/serialization/index.js';
import { makeImageFolder, tempRoot, tinyConfig } from './fixtures.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(repo, 'dist/src/cli/main.js');
const tmp = tempRoot('ccp-resume-');
const images = await makeImageFolder(join(tmp, 'images'), 6, 4);

function epochLines(runDir: string): { epoch: number; loss: number; validation: unknown }[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'epoch')
    .map((r) => ({ epoch: r.epoch, loss: r.loss, validation: r.validation }));
}

function modelTensors(runDir: string): Map<string, number[]> {
  const f = loadSafetensors(join(runDir, 'checkpoint.safetensors'));
  const out = new Map<string, number[]>();
  for (const [n, t] of f) if (n.startsWith('model.') || n.startsWith('optim.')) out.set(n, Array.from(t.toFloat64Array()));
  f.dispose();
  return out;
}

test('kill -9 mid-run, then --resume: byte-identical weights and one metrics line per epoch', { timeout: 120_000 }, async () => {
  const cfg = tinyConfig(images, tmp, { name: 'killed', threads: 1, training: { stepsPerEpoch: 30, maxEpochs: 6, earlyStopPatience: 100 } });
  const cfgFile = join(tmp, 'killed.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const straight = await train({ ...cfg, name: 'straight' }, { quiet: true });
  assert.equal(straight.epochs, 6);

  const runDir = join(tmp, 'killed');
  const child = spawn(process.execPath, [main, 'train', '-c', cfgFile, '-q'], { stdio: 'ignore' });
  // Kill at some moment after the second epoch line (so the first checkpoint exists; mid-epoch, possibly
  // mid-write). Other kinds of lines (execution, warnings) do not count.
  await new Promise<void>((done, fail) => {
    let seen = 0;
    const timer = setInterval(() => {
      if (!existsSync(join(runDir, 'metrics.jsonl'))) return;
      seen = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"kind":"epoch"')).length;
      if (seen >= 2) {
        clearInterval(timer);
        child.kill('SIGKILL');
        done();
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      if (seen < 2) fail(new Error('the run ended before it could be killed'));
    });
  });
  await new Promise((r) => child.once('exit', r).once('close', r));
  assert.ok(existsSync(join(runDir, 'checkpoint.safetensors')));
  // What a kill between the log line and the checkpoint leaves, plus a line cut short by a full disk.
  appendFileSync(join(runDir, 'metrics.jsonl'), JSON.stringify({ kind: 'epoch', epoch: 99, loss: 1 }) + '\n{"kind":"ep');
  writeFileSync(join(runDir, '.checkpoint.safetensors.tmp-999999999-0123456789ab'), 'partial');

  const again = spawnSync(process.execPath, [main, 'train', '-c', cfgFile, '--resume'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /removed .*\.checkpoint\.safetensors\.tmp-999999999-0123456789ab, left by a write that was killed/);
  assert.match(again.stderr, /metrics\.jsonl: dropped \d+ line\(s\)/);
  assert.ok(!existsSync(join(runDir, '.checkpoint.safetensors.tmp-999999999-0123456789ab')));
  assert.deepEqual(epochLines(runDir), epochLines(straight.runDir));
  const a = modelTensors(straight.runDir);
  const b = modelTensors(runDir);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [n, v] of a) assert.deepEqual(b.get(n), v, n);
});

test('--resume with config.json deleted: a changed key is refused, the same config resumes and restores config.json', { timeout: 60_000 }, async () => {
  const cfg = tinyConfig(images, tmp, { name: 'noconfig', training: { maxEpochs: 3 } });
  const first = await train(cfg, { quiet: true, stopAfterEpochs: 1 });
  rmSync(join(first.runDir, 'config.json'));
  await assert.rejects(
    train({ ...cfg, optimizer: { ...cfg.optimizer, lr: 0.01 } }, { quiet: true, resume: true }),
    /cannot resume .*noconfig: the config differs from the run's in optimizer\.lr \(0\.001 -> 0\.01\)/,
  );
  assert.ok(!existsSync(join(first.runDir, 'config.json')), 'a refused resume writes no config.json');
  const r = await train(cfg, { quiet: true, resume: true });
  assert.equal(r.epochs, 3);
  assert.equal(JSON.parse(readFileSync(join(first.runDir, 'config.json'), 'utf8')).optimizer.lr, 0.001);
  assert.deepEqual(
    epochLines(r.runDir).map((l) => l.epoch),
    [1, 2, 3],
  );
});
