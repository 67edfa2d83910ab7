// The `device` config key: cpu and auto resolve to the CPU with the reason recorded; an unusable CUDA device is
// refused naming the key and why, before any data is prepared.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cudaIsAvailable } from '../../src/engine/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { resolveDevice, backendFor, checkBackendFor } from '../../src/training/device.js';
import { train } from '../../src/training/trainer.js';

const probe = (gpus: number) => ({ probe: { cudaAvailable: () => gpus > 0, cudaDevices: () => gpus } });

test('device: cpu, and auto without CUDA, resolve to the cpu with the reason', () => {
  assert.deepEqual(resolveDevice('cpu', probe(2)), { device: 'cpu', reason: 'device: cpu (config)' });
  assert.equal(resolveDevice('auto', probe(0)).device, 'cpu');
  assert.match(resolveDevice('auto', probe(0)).reason, /auto -> cpu \(the libtorch loaded has no CUDA support or no GPU is visible\)/);
});

test('device: with GPUs, auto and cuda take the GPU of LOCAL_RANK, cuda:N that GPU', () => {
  assert.deepEqual(resolveDevice('auto', probe(2)), { device: 'cuda:0', reason: 'device: auto -> cuda:0 (a CUDA device is visible)' });
  assert.equal(resolveDevice('auto', { ...probe(2), localRank: 1 }).device, 'cuda:1');
  assert.equal(resolveDevice('cuda', { ...probe(4), localRank: 3 }).device, 'cuda:3');
  assert.equal(resolveDevice('cuda:1', { ...probe(2), localRank: 0 }).device, 'cuda:1');
  assert.match(resolveDevice('cuda', probe(1)).reason, /device: cuda -> cuda:0/);
});

test('device: an unusable CUDA device is refused naming the key and the reason', () => {
  for (const setting of ['cuda', 'cuda:1'] as const) {
    assert.throws(
      () => resolveDevice(setting, probe(0)),
      new RegExp(`config key 'device' is '${setting}', but CUDA is unavailable: the libtorch this addon loaded has no CUDA`),
    );
  }
  assert.throws(() => resolveDevice('cuda:2', probe(2)), /config key 'device' is 'cuda:2', but only 2 GPU\(s\) are visible; check CUDA_VISIBLE_DEVICES/);
  // The commands that load a run name their option instead of the config key.
  assert.throws(() => resolveDevice('cuda', { ...probe(0), source: '--device' }), /^Error: --device is 'cuda', but CUDA is unavailable/);
  assert.throws(() => resolveDevice('cuda:3', { ...probe(1), source: '--device' }), /--device is 'cuda:3', but only 1 GPU\(s\) are visible/);
  assert.throws(
    () => resolveDevice('cuda', { ...probe(2), localRank: 2 }),
    /only 2 GPU\(s\) are visible \(GPU 2 = this process's LOCAL_RANK: start at most one process per GPU\)/,
  );
});

test('device: a data-parallel run joins with NCCL on GPUs where the build has it, else Gloo; NCCL with a CPU run is refused', () => {
  assert.equal(backendFor('cuda:0', ['gloo', 'nccl']), 'nccl');
  assert.equal(backendFor('cuda:0', ['gloo']), 'gloo');
  assert.equal(backendFor('cpu', ['gloo', 'nccl']), 'gloo');
  assert.throws(() => checkBackendFor('cpu', { backend: 'nccl' }), /NCCL, which reduces GPU tensors only: use the 'gloo' backend/);
  checkBackendFor('cuda:1', { backend: 'gloo' });
  checkBackendFor('cuda:1', { backend: 'nccl' });
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
