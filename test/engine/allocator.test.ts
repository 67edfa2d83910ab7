// The retaining CPU allocator (native/allocator.cc): which backend is in use, releasing and bounding its cache,
// and identical results with it on and off (a conv net trained a few steps in two child processes, through
// oneDNN's convolutions, which allocate and free scratch buffers through the allocator's raw deleter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allocatorInfo, releaseCachedMemory, setAllocatorCacheLimit, zeros, tidy } from '../../src/engine/index.js';

const engineUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'engine', 'index.js')).href;
const TCMALLOC = ['/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4', '/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4'].some(existsSync);

test('allocator: tcmalloc backs CPU tensors where libtcmalloc-minimal4 is installed, else the system allocator with a note', () => {
  const info = allocatorInfo();
  if (process.env.CCP_DML_ALLOCATOR) return; // chosen by the environment
  if (TCMALLOC) assert.equal(info.backend, 'tcmalloc', JSON.stringify(info));
  else {
    assert.equal(info.backend, 'system');
    assert.ok(
      info.notes.some((n) => n.includes('tcmalloc')),
      JSON.stringify(info.notes),
    );
  }
  assert.equal(info.foreignFrees, 0);
});

test('allocator: freed memory is kept, releaseCachedMemory returns it, a cache limit bounds it', {
  skip: allocatorInfo().backend === 'system' && 'system allocator in use',
}, () => {
  const before = allocatorInfo();
  tidy(() => void zeros([64, 1024, 1024])); // 256 MiB, freed at once
  const after = allocatorInfo();
  assert.ok(after.allocations > before.allocations);
  assert.ok(after.peakBytes >= 256 * 2 ** 20);
  assert.ok(after.cachedBytes >= 200 * 2 ** 20, `cached ${after.cachedBytes}`);
  const released = releaseCachedMemory();
  assert.ok(released >= 200 * 2 ** 20, `released ${released}`);
  assert.ok(allocatorInfo().cachedBytes < 64 * 2 ** 20);

  assert.equal(setAllocatorCacheLimit(32 * 2 ** 20), true);
  assert.equal(allocatorInfo().cacheLimitBytes, 32 * 2 ** 20);
  tidy(() => void zeros([64, 1024, 1024]));
  assert.ok(allocatorInfo().cachedBytes <= 32 * 2 ** 20, `cached ${allocatorInfo().cachedBytes} above the limit`);
  setAllocatorCacheLimit(null);
  assert.equal(allocatorInfo().cacheLimitBytes, null);
  assert.throws(() => setAllocatorCacheLimit(-1), /bytes must be >= 0/);
});

// A few Adam steps of conv-BN-ReLU layers (NCHW and channels_last inputs); prints the losses and a checksum of
// the weights with every bit.
const TRAIN = `
import { randn, randint, manualSeed, tidy, keep, conv2d, batchNorm, crossEntropy, zeros, ones, allocatorInfo } from '${engineUrl}';
import { Adam } from '${engineUrl.replace('index.js', 'optim/index.js')}';
manualSeed(0);
const w1 = keep(randn([16, 3, 3, 3]).mul(0.2).requireGrad()), w2 = keep(randn([10, 16, 3, 3]).mul(0.1).requireGrad());
const rm = keep(zeros([16])), rv = keep(ones([16]));
const opt = new Adam([w1, w2], { lr: 1e-2 });
const x = keep(randn([8, 3, 20, 20])), y = keep(randint(0, 10, [8]));
const losses = [];
for (let i = 0; i < 4; i++) {
  losses.push(tidy(() => {
    const input = i % 2 ? x.toChannelsLast() : x;
    const h = batchNorm(conv2d(input, w1, null, { padding: 1 }), rm, rv, { training: true }).relu();
    const l = crossEntropy(conv2d(h, w2, null, { stride: 2 }).mean([2, 3]), y);
    l.backward();
    return l.item();
  }));
  opt.step(); opt.zeroGrad();
}
const bits = (t) => Buffer.from(t.toFloat32Array().buffer).toString('base64');
console.log(JSON.stringify({ backend: allocatorInfo().backend, losses, w1: bits(w1), w2: bits(w2), rm: bits(rm) }));
`;

function trainIn(allocator: string): { backend: string; losses: number[]; w1: string; w2: string; rm: string } {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', TRAIN], {
    env: { ...process.env, CCP_DML_ALLOCATOR: allocator, CCP_DML_THREADS: '1' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

test('allocator: training gives bit-identical results with the retaining allocator and the system one', {
  skip: !TCMALLOC && 'libtcmalloc-minimal4 not installed',
}, () => {
  const retaining = trainIn('auto');
  const system = trainIn('system');
  assert.equal(retaining.backend, 'tcmalloc');
  assert.equal(system.backend, 'system');
  assert.deepEqual(retaining.losses, system.losses);
  assert.equal(retaining.w1, system.w1);
  assert.equal(retaining.w2, system.w2);
  assert.equal(retaining.rm, system.rm);
});
