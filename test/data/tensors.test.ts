import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ImageLoader, loadImageFolder } from '../../src/data/index.js';
import { batchToTensors } from '../../src/data/tensors.js';
import { tidy } from '../../src/engine/index.js';
import { fixtures } from './helpers.js';

test('batchToTensors: float32 [B,C,H,W] images and int64 labels', async () => {
  const ds = loadImageFolder(path.join(fixtures, 'folder'));
  const b = await new ImageLoader(ds, { mode: 'test', transform: { size: 8 } }).loadBatch([0, 2, 5]);
  tidy(() => {
    const t = batchToTensors(b);
    assert.deepEqual(t.images.shape, [3, 3, 8, 8]);
    assert.equal(t.images.dtype, 'float32');
    assert.equal(t.labels.dtype, 'int64');
    assert.deepEqual(t.labels.toArray(), [0, 1, 2]);
    assert.ok(Math.abs(t.images.toArray()[5]! - b.images[5]!) < 1e-6);
  });
});
