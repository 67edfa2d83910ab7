import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MPerClassSampler, OnePerClassSampler, RandomSampler, SequentialSampler, Rng, type SamplerState } from '../../src/data/index.js';
import { fakeDataset } from './helpers.js';

function labelsOf(sizes: number[]): number[] {
  return sizes.flatMap((n, c) => Array<number>(n).fill(c));
}
const roundTrip = (s: SamplerState): SamplerState => JSON.parse(JSON.stringify(s)) as SamplerState;

test('Rng: deterministic, uniform ints in range, state round trip', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 100 }, () => a.nextU32());
  assert.deepEqual(
    xs,
    Array.from({ length: 100 }, () => b.nextU32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 100 }, () => new Rng(43).nextU32()),
  );
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 7000; i++) counts[a.int(7)]++;
  assert.ok(
    counts.every((c) => c > 850 && c < 1150),
    `counts ${counts}`,
  );
  const st = a.getState();
  const next = a.next();
  const c = new Rng(0);
  c.setState(st);
  assert.equal(c.next(), next);
});

test('MPerClass: batch layout [c1s1..cPs1, c1s2..], rounds visit each class once, per-class draws without replacement', () => {
  const sizes = [5, 6, 7, 8, 9, 5, 6, 7, 8, 9];
  const labels = labelsOf(sizes);
  const m = 4;
  const P = 5;
  const s = new MPerClassSampler(labels, { m, classesPerBatch: P, seed: 3 });
  assert.equal(s.batchSize, 20);
  assert.equal(s.roundsPerEpoch, Math.ceil(7 / 4));
  const draws: number[][] = sizes.map(() => []);
  const roundClasses: number[] = [];
  for (let b = 0; b < 40; b++) {
    const batch = s.next();
    assert.equal(batch.length, m * P);
    for (let g = 0; g < P; g++) {
      const cls = labels[batch[g]!]!;
      roundClasses.push(cls);
      const group = Array.from({ length: m }, (_, k) => batch[k * P + g]!);
      for (const i of group) assert.equal(labels[i], cls, `batch ${b} group ${g}: layout`);
      assert.equal(new Set(group).size, m, 'a group has distinct samples');
      draws[cls]!.push(...group);
    }
  }
  // every consecutive 10 groups (one round) is a permutation of the classes; P divides C here
  for (let r = 0; r < roundClasses.length / 10; r++) {
    assert.deepEqual(
      roundClasses.slice(r * 10, r * 10 + 10).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  }
  // the first n_c draws of class c are all of its samples, each once (no replacement until exhausted)
  sizes.forEach((n, c) => {
    const members = labels.flatMap((l, i) => (l === c ? [i] : []));
    assert.deepEqual(
      draws[c]!.slice(0, n).sort((a, b) => a - b),
      members,
    );
  });
});

test('MPerClass: class smaller than m repeats only after using all samples; batch may cross rounds', () => {
  const labels = labelsOf([2, 6, 6]);
  const s = new MPerClassSampler(labels, { m: 4, classesPerBatch: 2, seed: 1 });
  let seenSmall = false;
  const classesPerBatch: number[][] = [];
  for (let b = 0; b < 30; b++) {
    const batch = s.next();
    const groups = [0, 1].map((g) => [0, 1, 2, 3].map((k) => batch[k * 2 + g]!));
    classesPerBatch.push(groups.map((g) => labels[g[0]!]!));
    for (const g of groups) {
      if (labels[g[0]!] === 0) {
        seenSmall = true;
        assert.deepEqual([...g].sort(), [0, 0, 1, 1]);
      }
    }
  }
  assert.ok(seenSmall);
  assert.ok(
    classesPerBatch.some(([a, b]) => a === b),
    'with C=3 and 2 classes per batch some batch crosses a round with a repeated class',
  );
});

test('MPerClass: deterministic under a seed; state save/restore continues identically', () => {
  const ds = fakeDataset([3, 4, 5, 6, 7, 8, 9]);
  const a = new MPerClassSampler(ds, { m: 3, classesPerBatch: 3, seed: 11 });
  const b = new MPerClassSampler(ds, { m: 3, classesPerBatch: 3, seed: 11 });
  const c = new MPerClassSampler(ds, { m: 3, classesPerBatch: 3, seed: 12 });
  const A = Array.from({ length: 20 }, () => a.next());
  assert.deepEqual(
    A,
    Array.from({ length: 20 }, () => b.next()),
  );
  assert.notDeepEqual(
    A,
    Array.from({ length: 20 }, () => c.next()),
  );
  for (let i = 0; i < 7; i++) a.next();
  const st = roundTrip(a.getState());
  const cont = Array.from({ length: 15 }, () => a.next());
  const r = new MPerClassSampler(ds, { m: 3, classesPerBatch: 3, seed: 999 });
  r.setState(st);
  assert.deepEqual(
    Array.from({ length: 15 }, () => r.next()),
    cont,
  );
  assert.throws(() => new MPerClassSampler(fakeDataset([3, 3]), {}).setState(st), /expected 2 class queues/);
  assert.throws(() => r.setState({ kind: 'sequential', pos: 0 }), /state of kind 'sequential'/);
});

test('OnePerClass: spans give one sample per class in class order, distinct until exhausted', () => {
  const sizes = [3, 1, 4, 2, 5];
  const labels = labelsOf(sizes);
  const s = new OnePerClassSampler(labels, { seed: 5, batchSize: 2 });
  assert.equal(s.batchesPerSpan, 3);
  const spans = Array.from({ length: 4 }, () => s.span());
  for (const sp of spans)
    assert.deepEqual(
      sp.map((i) => labels[i]),
      [0, 1, 2, 3, 4],
    );
  sizes.forEach((n, c) => {
    const first = spans.slice(0, Math.min(n, 4)).map((sp) => sp[c]!);
    assert.equal(new Set(first).size, first.length, `class ${c}: distinct until exhausted`);
  });
  // class 1 has one sample: always the same
  assert.equal(new Set(spans.map((sp) => sp[1])).size, 1);
  // next(): batches never cross a span; ceil(C / batchSize) batches per span
  const t = new OnePerClassSampler(labels, { seed: 5, batchSize: 2 });
  const u = new OnePerClassSampler(labels, { seed: 5, batchSize: 2 });
  for (let k = 0; k < 3; k++) {
    const batches = [t.next(), t.next(), t.next()];
    assert.deepEqual(
      batches.map((b) => b.length),
      [2, 2, 1],
    );
    assert.deepEqual(batches.flat(), u.span());
  }
});

test('OnePerClass: state restore mid-span; empty class is an error', () => {
  const ds = fakeDataset([2, 3, 4]);
  const a = new OnePerClassSampler(ds, { batchSize: 2, seed: 9 });
  a.next();
  a.next();
  a.next();
  const st = roundTrip(a.getState());
  const cont = Array.from({ length: 8 }, () => a.next());
  const b = new OnePerClassSampler(ds, { batchSize: 2, seed: 1 });
  b.setState(st);
  assert.deepEqual(
    Array.from({ length: 8 }, () => b.next()),
    cont,
  );
  assert.throws(() => new OnePerClassSampler([0, 0, 2, 2]), /class 1 has no samples/);
});

test('Random sampler: shuffled epochs, no batch crosses an epoch, dropLast, resume; Sequential is finite', () => {
  const s = new RandomSampler(10, { batchSize: 4, seed: 2 });
  const epoch1 = [s.next(), s.next(), s.next()];
  assert.deepEqual(
    epoch1.map((b) => b.length),
    [4, 4, 2],
  );
  assert.deepEqual(
    epoch1.flat().sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  const st = roundTrip(s.getState());
  const e2 = [s.next(), s.next(), s.next()];
  assert.notDeepEqual(e2.flat(), epoch1.flat());
  const r = new RandomSampler(10, { batchSize: 4 });
  r.setState(st);
  assert.deepEqual([r.next(), r.next(), r.next()], e2);
  const d = new RandomSampler(10, { batchSize: 4, seed: 2, dropLast: true });
  assert.deepEqual(
    [d.next(), d.next(), d.next(), d.next()].map((b) => b.length),
    [4, 4, 4, 4],
  );
  assert.equal(d.batchesPerEpoch, 2);
  const q = new SequentialSampler(5, 2);
  assert.deepEqual([q.next(), q.next(), q.next(), q.next()], [[0, 1], [2, 3], [4], null]);
});
