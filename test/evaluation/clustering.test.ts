// NMI (hand cases and a numpy reference fixture) and k-means (blobs, determinism, edge cases), and NMI
// through evaluateRetrieval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../../src/engine/index.js';
import { evaluateRetrieval, kmeans, labelEntropy, mutualInformation, normalizedMutualInformation } from '../../src/evaluation/index.js';
import { gaussian, readFixture, rng } from './helpers.js';

test('NMI hand cases', () => {
  assert.equal(normalizedMutualInformation([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]), 1, 'perfect up to relabelling');
  // Exactly independent: a = i mod 4, b = floor(i / 4) mod 4 over 64 items.
  const a = Array.from({ length: 64 }, (_, i) => i % 4);
  const b = Array.from({ length: 64 }, (_, i) => Math.floor(i / 4) % 4);
  assert.ok(Math.abs(normalizedMutualInformation(a, b)) < 1e-12);
  assert.equal(normalizedMutualInformation([0, 1, 0, 1], [0, 0, 0, 0]), 0, 'one side constant');
  assert.equal(normalizedMutualInformation([3, 3, 3], [1, 1, 1]), 1, 'both single-cluster');
  // [0,0,1,1] vs [0,0,0,1]: H(U) = ln 2, H(V) = -(3/4 ln 3/4 + 1/4 ln 1/4),
  // MI = 1/2 ln(1/2 / (1/2 * 3/4)) + 1/4 ln(1/4 / (1/2 * 3/4)) + 1/4 ln(1/4 / (1/2 * 1/4))
  const hu = Math.log(2);
  const hv = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const mi = 0.5 * Math.log(0.5 / 0.375) + 0.25 * Math.log(0.25 / 0.375) + 0.25 * Math.log(0.25 / 0.125);
  assert.ok(Math.abs(labelEntropy([0, 0, 1, 1]) - hu) < 1e-15);
  assert.ok(Math.abs(mutualInformation([0, 0, 1, 1], [0, 0, 0, 1]) - mi) < 1e-15);
  assert.ok(Math.abs(normalizedMutualInformation([0, 0, 1, 1], [0, 0, 0, 1]) - mi / ((hu + hv) / 2)) < 1e-15);
  assert.throws(() => normalizedMutualInformation([0], [0, 1]), /different lengths/);
});

test('NMI matches the numpy reference fixture', () => {
  const fx = readFixture<{ produced_by: string; nmi: { a: number[]; b: number[]; nmi: number }[] }>('reference.json');
  assert.ok(fx.nmi.length >= 4);
  for (const c of fx.nmi) {
    const v = normalizedMutualInformation(c.a, c.b);
    assert.ok(Math.abs(v - c.nmi) < 1e-12, `NMI ${v} vs reference ${c.nmi}`);
  }
});

function blobs(seed: number, perBlob: number, centres: number[][], spread: number) {
  const r = rng(seed);
  const d = centres[0]!.length;
  const n = perBlob * centres.length;
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % centres.length;
    labels[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c]![j]! + spread * gaussian(r);
  }
  return { data, labels, shape: [n, d] as [number, number] };
}

test('k-means recovers well-separated blobs, deterministically for a seed', () => {
  const centres = [
    [0, 0, 0],
    [10, 0, 0],
    [0, 10, 0],
    [0, 0, 10],
    [10, 10, 10],
  ];
  const b = blobs(4, 40, centres, 0.5);
  const before = liveTensors();
  const km = kmeans({ data: b.data, shape: b.shape }, 5, { seed: 1 });
  assert.equal(liveTensors(), before, 'no tensor leak');
  assert.equal(normalizedMutualInformation(b.labels, km.labels), 1);
  // every centroid is within 0.5 of a true centre
  for (let c = 0; c < 5; c++) {
    const cen = Array.from(km.centroids.slice(c * 3, c * 3 + 3));
    const best = Math.min(...centres.map((t) => Math.hypot(...t.map((v, j) => v - cen[j]!))));
    assert.ok(best < 0.5, `centroid ${c} at distance ${best} from the nearest true centre`);
  }
  assert.ok(km.inertia < 200 * 3 * 0.25 * 2, `inertia ${km.inertia}`);
  const again = kmeans({ data: b.data, shape: b.shape }, 5, { seed: 1 });
  assert.deepEqual(again.labels, km.labels);
  assert.equal(again.inertia, km.inertia);
  // more restarts never give a worse inertia than the first run alone
  const one = kmeans({ data: b.data, shape: b.shape }, 5, { seed: 1, nInit: 1 });
  assert.ok(km.inertia <= one.inertia + 1e-6);
});

test('k-means edge cases: k = n, k = 1, duplicate points, bad arguments', () => {
  const x = { data: new Float32Array([0, 0, 1, 1, 1, 1, 5, 5]), shape: [4, 2] as [number, number] };
  const all = kmeans(x, 4, { seed: 3 });
  assert.equal(new Set(all.labels).size, 3, 'duplicates (1,1) share a cluster; one centroid duplicates too');
  assert.ok(all.inertia < 1e-9);
  const single = kmeans(x, 1);
  assert.deepEqual(Array.from(single.labels), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(single.centroids), [1.75, 1.75]);
  assert.throws(() => kmeans(x, 5), /k must be an integer in \[1, 4\]/);
  assert.throws(() => kmeans(x, 2, { nInit: 0 }), /nInit must be a positive integer/);
});

test('NMI through evaluateRetrieval: blobs give 1, shuffled labels give ~0', () => {
  const b = blobs(
    8,
    30,
    [
      [0, 0],
      [0.9, 0],
      [0, 0.9],
      [0.9, 0.9],
    ],
    0.05,
  );
  const res = evaluateRetrieval({ queries: { data: b.data, shape: b.shape }, queryLabels: b.labels, metrics: ['nmi', 'precisionAt1'] });
  assert.equal(res.nmi, 1);
  assert.equal(res.precisionAt1, 1);
  const r = rng(5);
  const shuffled = Int32Array.from(b.labels);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const bad = evaluateRetrieval({ queries: { data: b.data, shape: b.shape }, queryLabels: shuffled, metrics: ['nmi'] });
  assert.ok(bad.nmi! < 0.15, `NMI of shuffled labels ${bad.nmi}`);
});
