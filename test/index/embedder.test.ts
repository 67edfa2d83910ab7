// Batched embedding of a dataset (index build/add): the same vectors as one image at a time up to the kernels'
// rounding, the same pixel digests whatever the batch, and an indexed image's stored vector for a query with
// the same pixels (so it comes back at distance exactly 0 although it was indexed inside a batch).
import test from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VectorIndex, RunEmbedder, folderImages, itemsOf, pixelDigest, queryEmbedding, queryEmbeddings, DEFAULT_EMBED_BATCH } from '../../src/index/index.js';
import { loadRun } from '../../src/training/run-files.js';
import { makeTinyRun } from '../helpers/tiny-run.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('embedder');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test("embedDataset in batches: same vectors as batch 1 (to 1e-5), same digests; queries take an indexed twin's vector", async () => {
  const tiny = await makeTinyRun(tmp, { classes: 6, perClass: 7 });
  const { config, model } = loadRun(tiny.runDir);
  const embedder = new RunEmbedder(config, model);
  const ds = folderImages(tiny.imagesDir);
  assert.ok(ds.size > DEFAULT_EMBED_BATCH, 'more images than one default batch');
  const one: string[] = [];
  const alone = await embedder.embedDataset(ds, { batchSize: 1, digests: one });
  const many: string[] = [];
  const done: number[] = [];
  const batched = await embedder.embedDataset(ds, { digests: many, onProgress: (d) => done.push(d) });
  assert.deepEqual(done, [DEFAULT_EMBED_BATCH, ds.size]);
  assert.deepEqual(many, one);
  assert.equal(new Set(one).size, ds.size, 'distinct images, distinct digests');
  let maxDiff = 0;
  alone.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - batched[i]!))));
  assert.ok(maxDiff < 1e-5, `batched vs alone differ by ${maxDiff}`);
  await assert.rejects(embedder.embedDataset(ds, { batchSize: 0 }), /batch size must be a positive integer, got 0/);

  const index = VectorIndex.create(join(tmp, 'index'), {
    dim: embedder.dim,
    model: { hash: 'h', name: 'small_cnn', dim: embedder.dim, normalization: 'lipschitz', run: tiny.runDir },
  });
  index.add(
    itemsOf(ds, tiny.imagesDir).map((it, i) => ({ ...it, digest: many[i] })),
    batched,
  );
  const path = tiny.files[9]!.path;
  const input = () => ({ kind: 'encoded' as const, bytes: readFileSync(path), where: path });
  const q = await queryEmbedding(embedder, index, input());
  assert.equal(q.digest, many[9]);
  assert.deepEqual(q.vector, batched.slice(9 * embedder.dim, 10 * embedder.dim), 'the stored vector, bit for bit');
  const top = index.search(q.vector, { k: 1 })[0]!;
  assert.equal(top.distance, 0);
  const qs = await queryEmbeddings(embedder, index, ds);
  assert.deepEqual(qs, batched);
  // An image the index does not hold is embedded alone.
  index.remove([index.items()[9]!.id]);
  const fresh = await queryEmbedding(embedder, index, input());
  assert.deepEqual(fresh.vector, alone.slice(9 * embedder.dim, 10 * embedder.dim));
  assert.equal(pixelDigest(await embedder.preprocessImage(input())), many[9]);
  index.close();
});
