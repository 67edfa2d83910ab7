// The command line as a user runs it: a separate node process, exit codes, printed results, files written.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaIsAvailable } from '../../src/engine/index.js';
import { loadNpy, loadSafetensors } from '../../src/engine/serialization/index.js';
import { tempDir } from '../helpers/tmp.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(repo, 'dist/src/cli/main.js');
const tmp = tempDir('cli');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tiny = [
  '--preset',
  'mnist',
  '--set',
  'dataset.maxPerClass=60',
  '--set',
  'model.options.channels=[8, 16]',
  '--set',
  'model.embeddingDim=8',
  '--epochs',
  '2',
  '--steps-per-epoch',
  '5',
  '--out',
  tmp,
  '-q',
];

test('help and bad arguments', () => {
  const h = run('--help');
  assert.equal(h.code, 0);
  for (const c of ['train', 'eval', 'embed', 'search', 'report']) assert.match(h.out, new RegExp(c));
  const th = run('train', '--help');
  assert.match(th.out, /--resume/);
  assert.match(th.out, /--protocol/);
  const bad = run('train', '--preset', 'mnist', '--lr', 'fast');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--lr must be a number, got 'fast'/);
  const noData = run('train', '--dataset', 'folder', '--data-root', join(tmp, 'nope'));
  assert.notEqual(noData.code, 0);
  assert.match(noData.err, /dataset\.root: folder not found: .*nope/);
  const badKey = run('train', '--preset', 'mnist', '--set', 'training.stepz=3');
  assert.match(badKey.err, /training: unknown key\(s\) 'stepz'/);
});

test('train, eval, embed and search from the command line', { timeout: 600_000 }, () => {
  const t = run('train', ...tiny, '--name', 'cli');
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /MAP@R\s+\d+\.\d\d/);
  const runDir = join(tmp, 'cli');
  for (const f of ['config.json', 'checkpoint.safetensors', 'model.safetensors', 'metrics.jsonl', 'final-metrics.json'])
    assert.ok(existsSync(join(runDir, f)), f);
  const mapLine = t.out.split('\n').find((l) => /^\s+MAP@R/.test(l))!;
  // The run report, written at the end of train and again by `report`.
  assert.match(t.out, new RegExp(`report: ${join(runDir, 'report.html')}`));
  const rp = run('report', '--run', runDir, '--map-points', '100');
  assert.equal(rp.code, 0, rp.err);
  assert.match(rp.out, /report: .*report\.html/);
  assert.match(readFileSync(join(runDir, 'report.html'), 'utf8'), /id="embedding-map"/);

  const e = run('eval', '--run', runDir);
  assert.equal(e.code, 0, e.err);
  assert.ok(e.out.includes(mapLine.trim()), `eval prints the same MAP@R: ${mapLine} vs ${e.out}`);
  // --device: cpu is the default made explicit; a GPU without CUDA is refused naming the option.
  const onCpu = run('eval', '--run', runDir, '--device', 'cpu');
  assert.equal(onCpu.code, 0, onCpu.err);
  assert.ok(onCpu.out.includes(mapLine.trim()), onCpu.out);
  if (!cudaIsAvailable()) {
    const onGpu = run('eval', '--run', runDir, '--device', 'cuda');
    assert.notEqual(onGpu.code, 0);
    assert.match(onGpu.err, /--device is 'cuda', but CUDA is unavailable/);
  }

  const npy = join(tmp, 'emb.npy');
  const em = run('embed', '--run', runDir, '-o', npy);
  assert.equal(em.code, 0, em.err);
  const { data, shape } = loadNpy(npy);
  assert.equal(shape[1], 8);
  assert.equal(shape[0], loadNpy(join(tmp, 'emb.labels.npy')).shape[0]);
  for (let i = 0; i < shape[0]!; i++) {
    let s = 0;
    for (let j = 0; j < 8; j++) s += Number(data[i * 8 + j]) ** 2;
    assert.ok(Math.sqrt(s) <= 1 + 1e-5, 'N(v)-normalised rows');
  }
  const st = join(tmp, 'emb.safetensors');
  assert.equal(run('embed', '--run', runDir, '-o', st, '--split', 'validation').code, 0);
  const f = loadSafetensors(st);
  assert.deepEqual(f.get('embeddings')!.shape.slice(1), [8]);
  assert.equal(f.get('labels')!.dtype, 'int64');
  f.dispose();

  const gallery = join(repo, 'test/fixtures/data/folder');
  const q = join(gallery, 'dog/dog0.png');
  const s = run('search', '--run', runDir, '-g', gallery, '-k', '2', q);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /1\. 0\.0000 {2}\[dog\] .*dog0\.png/);
  const sj = run('search', '--run', runDir, '-g', gallery, '-k', '3', '--json', q);
  const parsed = JSON.parse(sj.out);
  assert.equal(parsed[0].results.length, 3);
  assert.ok(parsed[0].results[0].distance <= parsed[0].results[1].distance);

  const again = run('train', ...tiny, '--name', 'cli');
  assert.notEqual(again.code, 0);
  assert.match(again.err, /already holds a checkpoint/);
  const resumed = run('train', ...tiny, '--name', 'cli', '--resume', '--epochs', '3', '--no-report');
  assert.equal(resumed.code, 0, resumed.err);
  assert.doesNotMatch(resumed.out, /report:/);
  assert.match(resumed.out, /\(3 epochs, 15 steps/);
});
