// The `device` config key: cpu and auto resolve to the CPU with the reason recorded; an unusable CUDA device is
// refused naming the key and why, before any data is prepared.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cudaIsAvailable } from '../../src/engine/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { resolveDevice } from '../../src/training/device.js';
import { train } from '../../src/training/trainer.js';

const noCuda = { cudaAvailable: () => false };
const withCuda = { cudaAvailable: () => true };

test('device: cpu and auto resolve to the cpu with the reason', () => {
  assert.deepEqual(resolveDevice('cpu', withCuda), { device: 'cpu', reason: 'device: cpu (config)' });
  assert.equal(resolveDevice('auto', noCuda).device, 'cpu');
  assert.match(resolveDevice('auto', noCuda).reason, /auto -> cpu \(the libtorch loaded has no CUDA support or no GPU is visible\)/);
  // A visible GPU is not used yet, and the record says so instead of claiming there is none.
  assert.match(resolveDevice('auto', withCuda).reason, /auto -> cpu \(a CUDA device is visible, but this trainer does not train on CUDA yet\)/);
});

test('device: cuda and cuda:N are refused naming the key and the reason', () => {
  for (const setting of ['cuda', 'cuda:1'] as const) {
    assert.throws(
      () => resolveDevice(setting, noCuda),
      new RegExp(`config key 'device' is '${setting}', but CUDA is unavailable: the libtorch this addon loaded has no CUDA`),
    );
    assert.throws(
      () => resolveDevice(setting, withCuda),
      /config key 'device' is 'cuda.*': training on CUDA is not supported by this version of the trainer yet/,
    );
  }
});

test('device: the config accepts cpu, cuda, cuda:N, auto (default auto) and names the key otherwise', () => {
  assert.equal(parseRunConfig({ dataset: { name: 'mnist' } }).device, 'auto');
  for (const d of ['cpu', 'cuda', 'cuda:0', 'cuda:3', 'auto']) assert.equal(parseRunConfig({ dataset: { name: 'mnist' }, device: d }).device, d);
  for (const d of ['gpu', 'cuda:', 'cuda:x', 'CPU']) assert.throws(() => parseRunConfig({ dataset: { name: 'mnist' }, device: d }), /device/);
});

test('device: on this libtorch, cuda is refused by train() before any data is prepared', {
  skip: cudaIsAvailable() ? 'CUDA is available here: this test checks the refusal without CUDA' : false,
}, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccp-device-'));
  try {
    // A dataset that does not exist: reaching data preparation would fail with another error.
    const cfg = parseRunConfig({ name: 'd', outputDir: tmp, device: 'cuda', dataset: { name: 'folder', root: join(tmp, 'missing') } });
    await assert.rejects(train(cfg, { quiet: true }), /config key 'device' is 'cuda', but CUDA is unavailable/);
    assert.equal(existsSync(join(tmp, 'd')), false, 'the run folder of a refused run is removed');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('device: with CUDA visible, auto records the visible GPU and cuda is refused as not supported yet', {
  skip: cudaIsAvailable() ? false : 'CUDA is unavailable (libtorch without CUDA or no GPU visible)',
}, () => {
  assert.match(resolveDevice('auto').reason, /a CUDA device is visible/);
  assert.throws(() => resolveDevice('cuda'), /not supported by this version of the trainer yet/);
});
