import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, int64, tidy, randn, manualSeed } from '../../src/engine/index.js';
import { coveringRadius, greedyCoveringRadii, averageCoveringRadius, clipNormalize } from '../../src/ccp/index.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('coveringRadius: max distance to the nearest centre (Euclidean)', () => {
  tidy(() => {
    const pts = tensor([
      [0, 0],
      [3, 4],
      [1, 0],
    ]);
    close(coveringRadius(pts, tensor([[0, 0]])), 5);
    close(
      coveringRadius(
        pts,
        tensor([
          [0, 0],
          [3, 4],
        ]),
      ),
      1,
    );
    close(coveringRadius(pts, pts), 0);
    close(
      coveringRadius(
        tensor([[1, 1]]),
        tensor([
          [4, 5],
          [-2, -3],
        ]),
      ),
      5,
    );
    assert.throws(() => coveringRadius(pts, tensor([[0, 0, 0]])), /D=/);
  });
});

test('greedy radii on a 1-D hand case: minimax start, farthest-first, first index on ties', () => {
  tidy(() => {
    // Farthest class-mates: 10, 9, 8, 7, 10 → start at 3 (r = 7); then 10 (r = 3); then 0 (r = 1);
    // then the tie 1 vs 2 (both at 1) picks 1 (r = 1); then 2 (r = 0).
    const radii = greedyCoveringRadii(tensor([[0], [1], [2], [3], [10]]));
    assert.deepEqual(
      radii.map((r) => +r.toFixed(12)),
      [7, 3, 1, 1, 0],
    );
    assert.deepEqual(
      greedyCoveringRadii(tensor([[0], [1], [2], [3], [10]]), 2).map((r) => +r.toFixed(12)),
      [7, 3],
    );
    assert.deepEqual(greedyCoveringRadii(tensor([[4, 4]])), [0]);
  });
});

test('greedy radii agree with coveringRadius of the chosen prefix and never increase', () => {
  manualSeed(21);
  tidy(() => {
    const x = randn([40, 5], { dtype: 'float64' });
    const radii = greedyCoveringRadii(x);
    assert.equal(radii.length, 40);
    for (let k = 1; k < radii.length; k++) assert.ok(radii[k]! <= radii[k - 1]! + 1e-12);
    close(radii[39]!, 0);
    // k = 1 is the best single centre among the samples.
    let best = Infinity;
    for (let i = 0; i < 40; i++) best = Math.min(best, coveringRadius(x, x.narrow(0, i, 1)));
    close(radii[0]!, best, 1e-9);
  });
});

test('averageCoveringRadius: mean over k then over classes; N(v) by default', () => {
  tidy(() => {
    const emb = tensor([[0], [1], [2], [3], [10], [5], [7]]);
    const labels = int64([0, 0, 0, 0, 0, 1, 1]);
    const raw = averageCoveringRadius(emb, labels, { normalize: false });
    assert.deepEqual(
      raw.perClass.map((c) => [c.label, c.count]),
      [
        [0, 5],
        [1, 2],
      ],
    );
    close(raw.perClass[0]!.mean, 12 / 5);
    close(raw.perClass[1]!.mean, 1); // radii [2, 0]
    close(raw.mean, (12 / 5 + 1) / 2);
    const capped = averageCoveringRadius(emb, labels, { normalize: false, maxK: 2 });
    close(capped.perClass[0]!.mean, 5);
    close(capped.perClass[1]!.mean, 1);
    // N(v): (2,0) and (0,3) become (1,0) and (0,1); (0.3, 0.4) stays.
    const normed = averageCoveringRadius(
      tensor([
        [2, 0],
        [0, 3],
        [0.3, 0.4],
      ]),
      int64([4, 4, 9]),
    );
    close(normed.perClass[0]!.mean, Math.SQRT2 / 2, 1e-6);
    close(normed.perClass[1]!.mean, 0);
    assert.deepEqual(
      clipNormalize(
        tensor([
          [3, 4],
          [0.3, 0.4],
        ]),
      )
        .toArray()
        .map((v) => +v.toFixed(6)),
      [0.6, 0.8, 0.3, 0.4],
    );
    assert.throws(() => averageCoveringRadius(emb, int64([0, 1])), /labels/);
  });
});

test('classes of different sizes processed together give the same radii as each class alone', () => {
  manualSeed(22);
  tidy(() => {
    const sizes = [1, 7, 3, 12, 5];
    const labels = sizes.flatMap((n, c) => new Array<number>(n).fill(c * 10));
    const perm = randn([labels.length]).argsort().toArray();
    const shuffled = perm.map((i) => labels[i]!);
    const x = randn([labels.length, 4], { dtype: 'float64' }).mul(0.4);
    const all = averageCoveringRadius(x, int64(shuffled));
    assert.deepEqual(
      all.perClass.map((c) => c.label),
      [0, 10, 20, 30, 40],
    );
    for (const c of all.perClass) {
      const rows = shuffled.flatMap((l, i) => (l === c.label ? [i] : []));
      const alone = greedyCoveringRadii(clipNormalize(x.indexSelect(0, int64(rows))));
      assert.equal(c.count, rows.length);
      assert.equal(c.radii.length, rows.length);
      c.radii.forEach((r, k) => close(r, alone[k]!, 1e-12));
    }
  });
});
