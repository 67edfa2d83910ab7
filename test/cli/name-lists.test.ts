// The CLI's lists of names (datasets, models, loss presets, precisions) are the layers' registries and name
// lists, read without loading native code, so --help shows what the config accepts and stays instant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DATASET_NAMES } from '../../src/data/registry.js';
import { MODEL_NAMES } from '../../src/models/model-names.js';
import { PRESET_NAMES } from '../../src/losses/presets.js';
import { PRECISION_REQUESTS } from '../../src/engine/precision-request.js';
import { DatasetConfig, LossConfig, ModelConfig } from '../../src/training/config.js';
import { repoRoot } from '../helpers/repo-root.js';

const repo = repoRoot(import.meta.url);
// Any native module (libtorch addon, sharp) loaded in the process makes it fail.
const guard = "process.dlopen = () => { throw new Error('a native module was loaded'); };";
const env = { ...process.env, NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(guard)}` };

function node(args: string[]) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, out: r.stdout.replace(/\s+/g, ' '), err: r.stderr };
}

test('the name lists load no native code', () => {
  const modules = ['data/registry.js', 'models/model-names.js', 'losses/presets.js', 'engine/precision-request.js', 'training/device-setting.js'].map((m) =>
    join(repo, 'dist', 'src', m),
  );
  const script = `await Promise.all(${JSON.stringify(modules)}.map((m) => import(m))); console.log('ok');`;
  const r = node(['--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), 'ok');
  // The guard works: the dataset sources load sharp.
  assert.notEqual(node(['--input-type=module', '-e', `await import(${JSON.stringify(join(repo, 'dist/src/data/index.js'))});`]).code, 0);
});

test('train --help lists the config’s dataset, model and loss-preset names; --precision offers its precisions', () => {
  const main = join(repo, 'dist/src/cli/main.js');
  const train = node([main, 'train', '--help']);
  assert.equal(train.code, 0, train.err);
  for (const list of [DATASET_NAMES, MODEL_NAMES, PRESET_NAMES]) assert.ok(train.out.includes(list.join(' | ')), `train --help lists ${list.join(', ')}`);
  assert.deepEqual([...DatasetConfig.shape.name.options], [...DATASET_NAMES]);
  assert.deepEqual([...LossConfig.shape.preset.unwrap().options], [...PRESET_NAMES]);
  assert.deepEqual([...ModelConfig.shape.precision.unwrap().options], [...PRECISION_REQUESTS]);
  const embed = node([main, 'embed', '--help']);
  assert.equal(embed.code, 0, embed.err);
  assert.ok(embed.out.includes(`choices: ${PRECISION_REQUESTS.map((p) => `"${p}"`).join(', ')}`), embed.out);
});

test('--device: train sets the config key; a bad value is refused before any native code loads', () => {
  const main = join(repo, 'dist/src/cli/main.js');
  // --print-config checks the config, which loads native code: this one runs without the guard.
  const printed = spawnSync(process.execPath, [main, 'train', '--preset', 'mnist', '--device', 'cuda:1', '--print-config'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(printed.status, 0, printed.stderr);
  assert.match(printed.stdout, /"device": "cuda:1"/);
  for (const args of [
    ['train', '--preset', 'mnist', '--print-config'],
    ['embed', '--run', 'r', '-o', 'e.npy'],
    ['index', 'build', '--run', 'r', '--index', 'i'],
  ]) {
    const r = node([main, ...args, '--device', 'gpu']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /option '--device <d>' argument 'gpu' is invalid\. expected 'cpu', 'cuda', 'cuda:N' or 'auto'/);
  }
  // The index commands that load no model do not take the options they would ignore.
  for (const sub of ['remove', 'compact', 'info']) {
    const r = node([main, 'index', sub, '--index', 'i', '--device', 'cpu']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /unknown option '--device'/, `index ${sub}`);
    assert.doesNotMatch(node([main, 'index', sub, '--help']).out, /--precision|--device/, `index ${sub} --help`);
  }
});
