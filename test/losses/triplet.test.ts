// Triplet: the chunked O(rows x cols) path equals the dense [rows x cols x cols] path (value and
// gradients), for every reduction and chunk size; and it handles a reference set far too large for the
// dense tensor.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, manualSeed, randn, randint, int64, arange } from '../../src/engine/index.js';
import { TripletLoss, type ReferenceSet } from '../../src/losses/index.js';
import { assertClose, gradsOf } from './helpers.js';

describe('triplet: chunked == dense', () => {
  test('batch vs reference, every reduction and several chunk sizes', () => {
    tidy(() => {
      manualSeed(11);
      const x = randn([12, 4], { dtype: 'float64' }).mul(0.7);
      const y = randint(0, 5, [12]);
      const r = randn([40, 4], { dtype: 'float64' }).mul(0.7);
      const ry = randint(0, 5, [40]);
      for (const reduction of ['active', 'mean', 'sum'] as const) {
        const dense = new TripletLoss({ margin: 0.3, path: 'dense', reduction });
        const f = (loss: TripletLoss) => (a: typeof x, b: typeof r) => loss.forward(a, y, { embeddings: b, labels: ry });
        const want = gradsOf(f(dense), [x, r]);
        assert.ok(want.value > 0);
        for (const denseLimit of [1, 500, 5000, 1 << 20]) {
          const got = gradsOf(f(new TripletLoss({ margin: 0.3, path: 'chunked', reduction, denseLimit })), [x, r]);
          assertClose(got.value, want.value, `${reduction} value (limit ${denseLimit})`, 1e-10, 1e-10);
          assertClose(got.grads[0]!, want.grads[0]!, `${reduction} d/dx (limit ${denseLimit})`, 1e-10, 1e-10);
          assertClose(got.grads[1]!, want.grads[1]!, `${reduction} d/dref (limit ${denseLimit})`, 1e-10, 1e-10);
        }
      }
    });
  });

  test('batch vs batch (self pairs excluded), rows with no positive, and auto', () => {
    tidy(() => {
      manualSeed(12);
      const x = randn([10, 3], { dtype: 'float64' });
      const y = int64([0, 0, 0, 1, 1, 2, 3, 3, 4, 5]); // classes 2, 4, 5 have no positive
      const want = gradsOf((a) => new TripletLoss({ margin: 0.2, path: 'dense' }).forward(a, y), [x]);
      const got = gradsOf((a) => new TripletLoss({ margin: 0.2, path: 'chunked', denseLimit: 7 }).forward(a, y), [x]);
      const auto = gradsOf((a) => new TripletLoss({ margin: 0.2 }).forward(a, y), [x]);
      assertClose(got.value, want.value, 'self value', 1e-12);
      assertClose(got.grads[0]!, want.grads[0]!, 'self gradient', 1e-12);
      assertClose(auto.value, want.value, 'auto value', 1e-12);
    });
  });

  test('no positives at all: 0 with a zero, finite gradient on both paths', () => {
    tidy(() => {
      const x = randn([4, 3], { dtype: 'float64' });
      for (const path of ['dense', 'chunked'] as const) {
        const r = gradsOf((a) => new TripletLoss({ path }).forward(a, int64([0, 1, 2, 3])), [x]);
        assert.equal(r.value, 0);
        assert.deepEqual(r.grads[0]!.toArray(), new Array(12).fill(0));
      }
    });
  });

  test('a reference set of 20k items (dense would need 12.8e9 elements) runs in bounded memory', () => {
    tidy(() => {
      manualSeed(13);
      const B = 32;
      const M = 20000;
      const x = randn([B, 16]).requireGrad();
      const y = arange(0, B).remainder(8);
      const ref: ReferenceSet = { embeddings: randn([M, 16]), labels: arange(0, M).remainder(1000) };
      const loss = new TripletLoss({ margin: 0.1 }); // auto -> chunked
      const v = loss.forward(x, y, ref);
      v.backward();
      assert.ok(Number.isFinite(v.item()) && v.item() > 0);
      assert.ok(x.grad!.abs().sum().item() > 0);
      // cross-check the value on a slice small enough for the dense path
      const small: ReferenceSet = { embeddings: ref.embeddings.narrow(0, 0, 300), labels: ref.labels.narrow(0, 0, 300) };
      const d = new TripletLoss({ margin: 0.1, path: 'dense' }).forward(x.detach(), y, small).item();
      const c = new TripletLoss({ margin: 0.1, path: 'chunked', denseLimit: 4096 }).forward(x.detach(), y, small).item();
      assertClose(c, d, 'float32 chunked vs dense', 1e-5, 1e-5);
    });
  });
});
