// The persistent index on synthetic vectors: exact re-rank, label filter, incremental add/remove, persistence,
// crash consistency (uncommitted bytes ignored), the writer lock and the model check.
import test from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readFileSync, appendFileSync, existsSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VectorIndex, nearestRows, type ModelIdentity } from '../../src/index/index.js';
import { seededRandom } from '../helpers/tensors.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('index');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const model: ModelIdentity = { hash: 'a'.repeat(64), name: 'small_cnn', dim: 16, normalization: 'lipschitz', run: '/runs/a' };
const other: ModelIdentity = { ...model, hash: 'b'.repeat(64), run: '/runs/b' };

function vectors(n: number, dim: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n * dim }, () => r() * 2 - 1);
}
const items = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: `item${from + i}`, path: `/img/${from + i}.png`, label: `L${(from + i) % 7}` }));

test('search: exact re-rank (identical vector at distance 0), agreement with exact kNN, label filter', () => {
  const dir = join(tmp, 'a');
  const n = 2000;
  const v = vectors(n, 16, 1);
  const index = VectorIndex.create(dir, { dim: 16, model });
  index.add(items(n), v);
  index.save();
  const q = v.slice(5 * 16, 6 * 16);
  const r = index.search(q, { k: 10 });
  assert.equal(r[0]!.id, 'item5');
  assert.equal(r[0]!.distance, 0);
  // With every item a candidate, the re-rank is exact kNN (the default candidate count is approximate).
  const all = index.search(q, { k: 10, candidates: n });
  const exact = nearestRows(
    q,
    v,
    16,
    Array.from({ length: n }, (_, i) => i),
    10,
  );
  assert.deepEqual(
    all.map((x) => x.id),
    exact.map((e) => `item${e.row}`),
  );
  all.forEach((x, i) => assert.equal(x.distance, exact[i]!.distance));
  for (let i = 1; i < r.length; i++) assert.ok(r[i]!.distance >= r[i - 1]!.distance);
  // recall@10 of the approximate path over 50 random queries
  const qs = vectors(50, 16, 2);
  let hit = 0;
  for (let i = 0; i < 50; i++) {
    const qi = qs.subarray(i * 16, (i + 1) * 16);
    const want = new Set(
      nearestRows(
        qi,
        v,
        16,
        Array.from({ length: n }, (_, j) => j),
        10,
      ).map((e) => `item${e.row}`),
    );
    hit += index.search(qi, { k: 10 }).filter((x) => want.has(x.id)).length;
  }
  assert.ok(hit / 500 >= 0.95, `recall@10 ${hit / 500}`);
  const f = index.search(q, { k: 5, label: 'L3' });
  assert.equal(f.length, 5);
  assert.ok(f.every((x) => x.label === 'L3'));
  const want = nearestRows(
    q,
    v,
    16,
    Array.from({ length: n }, (_, i) => i).filter((i) => i % 7 === 3),
    5,
  );
  assert.deepEqual(
    f.map((x) => x.id),
    want.map((e) => `item${e.row}`),
  );
  assert.deepEqual(index.search(q, { k: 5, label: 'nope' }), []);
  assert.throws(() => index.search(q, { k: 0 }), /k must be a positive integer, got 0/);
  assert.throws(() => index.search(q.subarray(0, 3), { k: 1 }), /vector has 3 values, the index holds 16-d vectors/);
  assert.throws(() => index.search(Float32Array.from(q).fill(NaN, 2, 3), { k: 1 }), /value 2 is NaN/);
  index.close();
});

test('incremental add and remove persist; a mismatching model is refused; one writer at a time', () => {
  const dir = join(tmp, 'b');
  const v = vectors(300, 16, 3);
  let index = VectorIndex.create(dir, { dim: 16, model, quantization: 'f16' });
  index.add(items(200), v.subarray(0, 200 * 16));
  index.save({ snapshot: true });
  assert.throws(() => VectorIndex.open(dir), /open for writing by process|already open for writing in this process/);
  index.close();

  index = VectorIndex.open(dir, { model });
  index.add(items(100, 200), v.subarray(200 * 16));
  index.remove(['item3', 'item250']);
  assert.throws(() => index.remove(['missing']), /no item with id 'missing'/);
  assert.throws(() => index.add(items(1, 5), v.subarray(0, 16)), /id 'item5' is already in the index/);
  index.save(); // small change: logs only, the graph snapshot is not rewritten
  index.close();

  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.equal(m.rows, 300);
  assert.ok(m.ann.itemsBytes < m.itemsBytes, 'the log beyond the snapshot is replayed on open');
  index = VectorIndex.open(dir, { model, readOnly: true });
  assert.equal(index.size, 298);
  assert.ok(!index.has('item3') && !index.has('item250') && index.has('item299'));
  const q = v.slice(260 * 16, 261 * 16);
  const top = index.search(q, { k: 1 })[0]!;
  assert.equal(top.id, 'item260');
  assert.equal(top.distance, 0);
  assert.ok(index.search(v.slice(3 * 16, 4 * 16), { k: 5 }).every((x) => x.id !== 'item3'));
  assert.throws(() => index.add(items(1, 900), v.subarray(0, 16)), /opened read-only/);
  index.close();

  assert.throws(() => VectorIndex.open(dir, { model: other }), /built with another model \(aaaaaaaaaaaa, run \/runs\/a\) than run \/runs\/b \(bbbbbbbbbbbb\)/);
});

test('a crash before the manifest is replaced leaves the previous state', () => {
  const dir = join(tmp, 'c');
  const v = vectors(20, 16, 4);
  const index = VectorIndex.create(dir, { dim: 16, model });
  index.add(items(10), v.subarray(0, 160));
  index.save();
  index.close();
  // What a writer killed mid-save leaves: appended vectors and log records, an old manifest, a stale lock.
  appendFileSync(join(dir, 'vectors.f32'), Buffer.from(v.buffer, 160 * 4, 160 * 4));
  appendFileSync(join(dir, 'items.jsonl'), '{"op":"add","key":10,"id":"ghost","path":null,"label":null}\n{"op":"remo');
  writeFileSync(join(dir, 'writer.lock'), '999999999');
  const again = VectorIndex.open(dir, { model });
  assert.equal(again.size, 10);
  assert.ok(!again.has('ghost'));
  again.add(items(1, 10), v.subarray(160, 176));
  again.save();
  again.close();
  const third = VectorIndex.open(dir, { readOnly: true });
  assert.equal(third.size, 11);
  assert.equal(third.search(v.slice(160, 176), { k: 1 })[0]!.id, 'item10');
  assert.ok(!existsSync(join(dir, 'writer.lock')));
  third.close();
  assert.throws(() => VectorIndex.open(join(tmp, 'none')), /is not an index: no manifest\.json/);
  assert.throws(() => VectorIndex.create(dir, { dim: 16, model }), /already holds an index/);
});

test('searchBatch answers as search does, query by query; bad batches name the problem', () => {
  const dir = join(tmp, 'd');
  const n = 1500;
  const v = vectors(n, 16, 5);
  const index = VectorIndex.create(dir, { dim: 16, model });
  index.add(items(n), v);
  const qs = vectors(40, 16, 6);
  qs.set(v.subarray(7 * 16, 8 * 16), 0); // query 0 is item7
  for (const o of [{ k: 10 }, { k: 3, candidates: 20 }, { k: 4, label: 'L2' }]) {
    const batch = index.searchBatch(qs, { ...o, threads: 2 });
    assert.equal(batch.length, 40);
    batch.forEach((hits, i) => assert.deepEqual(hits, index.search(qs.subarray(i * 16, (i + 1) * 16), o), `query ${i} ${JSON.stringify(o)}`));
  }
  const first = index.searchBatch(qs, { k: 1 })[0]![0]!;
  assert.deepEqual([first.id, first.distance], ['item7', 0]);
  assert.throws(() => index.searchBatch(qs.subarray(0, 20), { k: 1 }), /20 query values are not a whole number of 16-d vectors/);
  assert.throws(() => index.searchBatch(Float32Array.from(qs).fill(Infinity, 17, 18), { k: 1 }), /query 1: vector value 1 is Infinity/);
  assert.throws(() => index.searchBatch(qs, { k: 1, candidates: 0 }), /candidates must be a positive integer, got 0/);
  index.close();
});

test('compact: removed items never return, the files shrink, live results are unchanged, digests survive', () => {
  const dir = join(tmp, 'e');
  const n = 1200;
  const v = vectors(n, 16, 7);
  let index = VectorIndex.create(dir, { dim: 16, model });
  index.add(
    items(n).map((it, i) => ({ ...it, digest: i === 900 ? 'pixels-of-900' : null })),
    v,
  );
  index.save({ snapshot: true });
  const removed = Array.from({ length: 600 }, (_, i) => `item${2 * i}`); // every even item
  index.remove(removed);
  index.save();
  const bytes = () => readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  const before = bytes();
  const qs = vectors(30, 16, 8);
  // Brute force over the live (odd) items, computed here from the raw vectors; candidates >= size is an exact scan.
  const live = Array.from({ length: n / 2 }, (_, i) => 2 * i + 1);
  const bruteIds = (qi: number) =>
    live
      .map((r) => ({ r, d: Math.hypot(...Array.from({ length: 16 }, (_, j) => qs[qi * 16 + j]! - v[r * 16 + j]!)) }))
      .sort((a, b) => a.d - b.d || a.r - b.r)
      .slice(0, 5)
      .map((x) => `item${x.r}`);
  const want = Array.from({ length: 30 }, (_, i) => bruteIds(i));
  const exact = (ix: VectorIndex) =>
    Array.from({ length: 30 }, (_, i) => ix.search(qs.subarray(i * 16, (i + 1) * 16), { k: 5, candidates: n }).map((h) => h.id));
  assert.deepEqual(exact(index), want, 'exact answers before compaction');
  assert.deepEqual(index.compact({ threads: 2 }), { reclaimedRows: 600, size: 600 });
  assert.deepEqual(exact(index), want, 'same answers right after compaction');
  index.close();

  assert.ok(bytes() < 0.7 * before, `index files ${before} -> ${bytes()} bytes`);
  assert.deepEqual(
    readdirSync(dir)
      .filter((f) => /^(vectors|items)/.test(f))
      .sort(),
    ['items-3.jsonl', 'vectors-3.f32'],
  );
  index = VectorIndex.open(dir, { model });
  assert.equal(index.size, 600);
  assert.equal(index.info().deletedRows, 0);
  assert.deepEqual(exact(index), want, 'same answers after reopening');
  for (const id of removed.slice(0, 50)) {
    const k = Number(id.slice(4));
    assert.ok(!index.has(id));
    assert.ok(
      index.search(v.subarray(k * 16, (k + 1) * 16), { k: 20 }).every((x) => Number(x.id.slice(4)) % 2 === 1),
      `${id} never returns`,
    );
  }
  const top = index.search(v.subarray(901 * 16, 902 * 16), { k: 1 })[0]!;
  assert.deepEqual([top.id, top.distance], ['item901', 0]);
  assert.deepEqual(index.vectorByDigest('pixels-of-900'), undefined, 'item900 was removed with its digest');
  // Adds after a compaction go on from the renumbered rows.
  index.add([{ id: 'new', path: null, label: null, digest: 'pixels-new' }], v.subarray(0, 16));
  index.save();
  index.close();
  index = VectorIndex.open(dir, { model, readOnly: true });
  assert.deepEqual(index.search(v.subarray(0, 16), { k: 1 })[0]!.id, 'new');
  assert.deepEqual(index.vectorByDigest('pixels-new'), v.slice(0, 16));
  index.close();
});
