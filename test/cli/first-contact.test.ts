// A new user's first hour, through the command line: --help/--version without the native addon, --threads on
// every command, a CSV of their own images (its 'val' rows as the validation split, a config file with relative
// paths, the setup summary and the batch warnings), a failed start leaving no run folder, eval/embed from another
// folder and after the data moved (--data-root), embed's original labels, search --exclude-self.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadNpy } from '../../src/engine/serialization/index.js';
import { tempDir } from '../helpers/tmp.js';
import { escapeRegExp } from '../helpers/regexp.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(repo, 'dist/src/cli/main.js');
const tmp = tempDir('first');

function run(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: o.cwd ?? tmp, timeout: 300_000, env: { ...process.env, ...o.env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// Any native module (libtorch addon, sharp) loaded in the process makes it fail.
const guard = "process.dlopen = () => { throw new Error('a native module was loaded'); };";
const noNative = { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(guard)}` };

test('--version and --help load no native module; every command takes --threads and -q', () => {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const v = run(['--version'], { env: noNative });
  assert.equal(v.code, 0, v.err);
  assert.equal(v.out.trim(), pkg.version);
  const h = run(['--help'], { env: noNative });
  assert.equal(h.code, 0, h.err);
  for (const c of ['train', 'eval', 'embed', 'search', 'index', 'calibrate', 'serve', 'export']) assert.match(h.out, new RegExp(`\\b${c}\\b`));
  for (const c of [
    ['train'],
    ['eval'],
    ['embed'],
    ['search'],
    ['index', 'build'],
    ['index', 'search'],
    ['index', 'info'],
    ['index', 'compact'],
    ['calibrate'],
    ['serve'],
    ['export'],
  ]) {
    const ch = run([...c, '--help'], { env: noNative });
    assert.equal(ch.code, 0, `${c.join(' ')}: ${ch.err}`);
    assert.match(ch.out, /--threads <n>/, c.join(' '));
    assert.match(ch.out, /-q, --quiet/, c.join(' '));
  }
  assert.match(run(['eval', '--help']).out, /--data-root <dir>/);
  assert.match(run(['index', 'build', '--help'], { env: noNative }).out, /--batch-size <n>\s+images per forward pass while embedding \(default: 32\)/);
  // The guard works: a command that needs the addon fails under it.
  assert.notEqual(run(['index', 'info', '-i', join(tmp, 'none')], { env: noNative }).code, 0);
  const badThreads = run(['eval', '--run', tmp, '--threads', '0']);
  assert.notEqual(badThreads.code, 0);
  assert.match(badThreads.err, /--threads must be a positive integer, got '0'/);
});

test('--print-config checks the loss name and its preset', () => {
  const bad = run(['train', '--preset', 'mnist', '--loss', 'ccp/tripplet', '--print-config']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /loss\.name: unknown loss 'tripplet'/);
  const wrap = run(['train', '--preset', 'mnist', '--loss', 'ccp/proxy_anchor', '--print-config']);
  assert.match(wrap.err, /ccp\/ wraps a pair loss/);
  const ok = run(['train', '--preset', 'mnist', '--loss', 'triplet', '--print-config']);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(ok.out).loss.name, 'triplet');
});

/** A user's CSV dataset: colour PNGs, 'train' classes a (9) and b-d (5 each), 'val' classes e-f (4 each), 'test' classes 7-9. */
async function csvDataset(dir: string): Promise<string> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rows = ['path,label,split'];
  const classes: [string, string, number][] = [
    ['a', 'train', 9],
    ['b', 'train', 5],
    ['c', 'train', 5],
    ['d', 'train', 5],
    ['e', 'val', 4],
    ['f', 'val', 4],
    ['7', 'test', 4],
    ['8', 'test', 4],
    ['9', 'test', 4],
  ];
  for (const [ci, [name, split, n]] of classes.entries()) {
    for (let j = 0; j < n; j++) {
      const px = Buffer.alloc(16 * 16 * 3);
      for (let p = 0; p < 256; p++) {
        px[p * 3] = (ci * 37 + p * (ci + 1)) % 256;
        px[p * 3 + 1] = (j * 50 + p) % 256;
        px[p * 3 + 2] = ci * 25;
      }
      const file = `images/${name}_${j}.png`;
      await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toFile(join(dir, file));
      rows.push(`${file},${name},${split}`);
    }
  }
  writeFileSync(join(dir, 'manifest.csv'), rows.join('\n') + '\n');
  return join(dir, 'manifest.csv');
}

test('a CSV of my own images: val rows validate, relative config paths, setup summary, warnings, eval/embed anywhere', { timeout: 600_000 }, async () => {
  const data = join(tmp, 'mydata');
  await csvDataset(data);
  const exp = join(tmp, 'experiments');
  mkdirSync(exp);
  // Relative to the config file, not to where the command runs.
  writeFileSync(
    join(exp, 'run.yaml'),
    [
      'name: mine',
      'dataset: { name: csv, csv: ../mydata/manifest.csv, imageSize: 16, channels: 1 }',
      'model: { name: mlp, embeddingDim: 4, options: { hidden: [16] } }',
      'ccp: { proxiesPerClass: 2, poolSize: 7 }',
      'training: { classesPerBatch: 4, samplesPerClass: 8, stepsPerEpoch: 2, maxEpochs: 1, evalBatchSize: 8 }',
      '',
    ].join('\n'),
  );
  const elsewhere = join(tmp, 'elsewhere');
  mkdirSync(elsewhere);
  const t = run(['train', '--config', join(exp, 'run.yaml'), '--out', join(tmp, 'runs'), '--threads', '1'], { cwd: elsewhere });
  assert.equal(t.code, 0, t.err);
  // The setup summary, before the first epoch line.
  const setup = t.err.slice(0, t.err.indexOf('epoch 1 '));
  assert.match(setup, /train 24 images \/ 4 classes \| validation 8 images \/ 2 classes \| test 12 images \/ 3 classes \(self-retrieval\)/);
  assert.match(setup, /validation: the manifest's 'val' rows/);
  assert.match(setup, /model mlp \(D = 4\), pretrained: none .*input 16x16, 1 channel/);
  assert.match(setup, /precision fp32(, channels_last)? \| threads 1/);
  // The batch warnings and the colour one.
  assert.match(t.err, /warning: 3 of 4 training classes have fewer images than training\.samplesPerClass \(8; smallest has 5\)/);
  assert.match(t.err, /warning: 3 of 4 training classes have fewer images than CCP's pool size ccp\.poolSize \(b = 7\)/);
  // More classes per batch than the data holds is refused (issue 10's bounds), naming the key.
  const tooMany = run(
    ['train', '--config', join(exp, 'run.yaml'), '--out', join(tmp, 'runs'), '--name', 'too-many', '--threads', '1', '--set', 'training.classesPerBatch=6'],
    { cwd: elsewhere },
  );
  assert.equal(tooMany.code, 1);
  assert.match(tooMany.err, /training\.classesPerBatch is 6, but the training split \(csv\/train\) has only 4 classes/);
  assert.match(t.err, /warning: the training images have 3 channels but dataset\.channels is 1: colour is read as grey/);
  const runDir = join(tmp, 'runs', 'mine');
  const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.equal(saved.dataset.csv, join(data, 'manifest.csv'), 'stored absolute');
  const trained = JSON.parse(readFileSync(join(runDir, 'final-metrics.json'), 'utf8'));

  // eval from another folder gives the training run's test metrics.
  const e = run(['eval', '--run', runDir, '--json', join(tmp, 'eval.json'), '-q'], { cwd: exp });
  assert.equal(e.code, 0, e.err);
  assert.equal(JSON.parse(readFileSync(join(tmp, 'eval.json'), 'utf8')).mapAtR, trained.test.mapAtR);
  const ev = run(['eval', '--run', runDir, '--split', 'validation', '--json', join(tmp, 'val.json'), '-q']);
  assert.equal(ev.code, 0, ev.err);
  assert.equal(JSON.parse(readFileSync(join(tmp, 'val.json'), 'utf8')).numQueries, 8, "the manifest's 8 'val' rows");

  // The data moved: a clear error, then --data-root points at the new place.
  const moved = join(tmp, 'moved-data');
  renameSync(data, moved);
  const lost = run(['eval', '--run', runDir, '-q']);
  assert.notEqual(lost.code, 0);
  assert.match(lost.err, /manifest\.csv/);
  const found = run(['eval', '--run', runDir, '--data-root', moved, '--json', join(tmp, 'eval2.json')]);
  assert.equal(found.code, 0, found.err);
  assert.equal(JSON.parse(readFileSync(join(tmp, 'eval2.json'), 'utf8')).mapAtR, trained.test.mapAtR);
  assert.match(found.err, /embedding test split: 12 images in [\d.]+ s/, 'progress lines for loading and embedding');

  // embed writes the original labels (7-9, not 0-2) and the class names.
  const em = run(['embed', '--run', runDir, '--data-root', moved, '-o', join(tmp, 'emb.npy'), '-q'], { cwd: elsewhere });
  assert.equal(em.code, 0, em.err);
  const labels = loadNpy(join(tmp, 'emb.labels.npy'));
  assert.deepEqual([...new Set(Array.from(labels.data as ArrayLike<number | bigint>, Number))].sort(), [7, 8, 9]);
  assert.deepEqual(readFileSync(join(tmp, 'emb.labels.txt'), 'utf8').trim().split('\n'), ['7', '7', '7', '7', '8', '8', '8', '8', '9', '9', '9', '9']);
  const emv = run(['embed', '--run', runDir, '--data-root', moved, '-o', join(tmp, 'val.npy'), '--split', 'validation', '-q']);
  assert.equal(emv.code, 0, emv.err);
  assert.deepEqual([...new Set(readFileSync(join(tmp, 'val.labels.txt'), 'utf8').trim().split('\n'))], ['e', 'f']);
  assert.deepEqual(
    [...new Set(Array.from(loadNpy(join(tmp, 'val.labels.npy')).data as ArrayLike<number | bigint>, Number))],
    [0, 1],
    'non-numeric names: indices',
  );

  // search --exclude-self leaves the query's own file out.
  const q = join(moved, 'images', 'a_0.png');
  const s = run(['search', '--run', runDir, '-g', join(moved, 'images'), '-k', '3', '--json', q]);
  assert.equal(s.code, 0, s.err);
  assert.equal(JSON.parse(s.out)[0].results[0].distance, 0);
  const sx = run(['search', '--run', runDir, '-g', join(moved, 'images'), '-k', '3', '--json', '--exclude-self', q]);
  const results = JSON.parse(sx.out)[0].results as { path: string; distance: number }[];
  assert.equal(results.length, 3);
  assert.ok(results.every((r) => resolve(r.path) !== q && r.distance > 0));
});

test('a failed start leaves no run folder behind', async () => {
  const dir = join(tmp, 'bad');
  mkdirSync(join(dir, 'images'), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .png()
    .toFile(join(dir, 'images', 'x.png'));
  // Train rows only: nothing to evaluate on.
  writeFileSync(join(dir, 'm.csv'), 'path,label,split\nimages/x.png,a,train\nimages/x.png,b,train\n');
  const r = run(['train', '--dataset', 'csv', '--csv', join(dir, 'm.csv'), '--out', join(tmp, 'runs2'), '--name', 'failed', '-q']);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /no 'test' \(or 'query' \+ 'gallery'\) rows/);
  assert.ok(!existsSync(join(tmp, 'runs2', 'failed')), 'no half-made run folder');
});

test('pretrain: classification pretraining of a backbone, then training from it', { timeout: 600_000 }, () => {
  const small = ['--preset', 'mnist', '--set', 'dataset.maxPerClass=60', '--set', 'model.options.channels=[8, 16]', '--threads', '1'];
  const file = join(tmp, 'backbone.safetensors');
  const p = run(['pretrain', ...small, '--epochs', '1', '--batch-size', '32', '-o', file, '-q']);
  assert.equal(p.code, 0, p.err);
  // 5 digits x 54 training images (10% held out): 8 steps of 32; accuracy on the 30 held-out images.
  assert.match(p.out, /pretrained small_cnn on 270 images of 5 classes \(8 steps, \d+ s\), held-out accuracy [\d.]+%/);
  const keys = Object.keys(
    JSON.parse(
      readFileSync(file)
        .subarray(8, 8 + Number(readFileSync(file).readBigUInt64LE(0)))
        .toString('utf8'),
    ),
  ).filter((k) => k !== '__metadata__');
  assert.ok(keys.length > 0 && keys.every((k) => k.startsWith('backbone.')), keys.join(', '));
  const t = run(['train', ...small, '--pretrained', file, '--epochs', '1', '--steps-per-epoch', '2', '--out', join(tmp, 'runs3'), '--name', 'from-pretrained']);
  assert.equal(t.code, 0, t.err);
  assert.match(t.err, new RegExp(`pretrained: ${escapeRegExp(file)}`));
});
