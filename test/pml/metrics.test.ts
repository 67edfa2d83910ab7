// Metrics against the real pytorch-metric-learning (test/fixtures/pml/metrics.json): PML's
// AccuracyCalculator (P@1, R-Precision, MAP@R, MAP@K, MRR, micro and avg_of_avgs, self-retrieval and
// query/gallery, lone queries included), AMI / NMI as PML computes them (scikit-learn), and our k-means
// against scikit-learn's KMeans(n_init=10): inertia no worse on every fixture.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRetrieval, kmeans, adjustedMutualInformation, normalizedMutualInformation, type RetrievalMetricName } from '../../src/evaluation/index.js';
import { Deviations, readPmlFixture } from './helpers.js';

type PmlMetrics = Record<'precision_at_1' | 'r_precision' | 'mean_average_precision_at_r' | 'mean_average_precision' | 'mean_reciprocal_rank', number>;
interface Fixture {
  produced_by: string;
  retrieval: {
    case: string;
    embeddings: number[];
    shape: [number, number];
    labels: number[];
    K: number;
    expected: Record<'micro' | 'avg_of_avgs', PmlMetrics>;
    query_gallery: { num_queries: number; expected: Record<'micro' | 'avg_of_avgs', PmlMetrics> };
  }[];
  mutual_information: { a: number[]; b: number[]; ami: number; nmi: number }[];
  kmeans: {
    case: string;
    embeddings: number[];
    shape: [number, number];
    labels: number[];
    k: number;
    sklearn_inertia: number;
    sklearn_nmi: number;
    sklearn_ami: number;
  }[];
}

const fx = readPmlFixture<Fixture>('metrics.json');
const dev = new Deviations();
const METRICS: RetrievalMetricName[] = ['precisionAt1', 'rPrecision', 'mapAtR', 'mapAtK', 'mrr'];

function compare(name: string, got: Record<string, number | undefined>, exp: PmlMetrics): void {
  const pairs: [string, keyof PmlMetrics, string][] = [
    ['precisionAt1', 'precision_at_1', 'P@1'],
    ['rPrecision', 'r_precision', 'R-Precision'],
    ['mapAtR', 'mean_average_precision_at_r', 'MAP@R'],
    ['mapAtK', 'mean_average_precision', 'MAP@K'],
    ['mrr', 'mean_reciprocal_rank', 'MRR'],
  ];
  for (const [ours, pml, label] of pairs) {
    dev.count(label);
    // PML computes in float32 (AccuracyCalculator casts), hence 1e-6
    dev.check(label, 'value', got[ours]!, exp[pml], `${name}: ${label}`, 1e-6, 1e-6);
  }
}

describe('metrics vs the real pytorch-metric-learning', () => {
  test('fixture names PML and its commit', () => {
    assert.match(fx.produced_by, /pytorch-metric-learning 2\.8\.1 \(commit [0-9a-f]{40}\)/);
  });

  for (const c of fx.retrieval) {
    for (const avg of [false, true]) {
      const tag = avg ? 'avg_of_avgs' : 'micro';
      test(`${c.case}, ${tag}`, () => {
        const data = Float64Array.from(c.embeddings);
        const r = evaluateRetrieval({
          queries: { data, shape: c.shape },
          queryLabels: c.labels,
          metrics: METRICS,
          atK: c.K,
          avgOfAvgs: avg,
          normalize: 'l2',
          dtype: 'float64',
        });
        assert.equal(r.numExcluded, 1, 'the singleton class is a lone query');
        compare(`${c.case} ${tag}`, r as unknown as Record<string, number>, c.expected[tag]);
      });
      test(`${c.case}, query/gallery, ${tag}`, () => {
        const [n, d] = c.shape;
        const nq = c.query_gallery.num_queries;
        const data = Float64Array.from(c.embeddings);
        const r = evaluateRetrieval({
          queries: { data: data.subarray(0, nq * d), shape: [nq, d] },
          queryLabels: c.labels.slice(0, nq),
          references: { data: data.subarray(nq * d), shape: [n - nq, d] },
          referenceLabels: c.labels.slice(nq),
          metrics: METRICS,
          atK: c.K,
          avgOfAvgs: avg,
          normalize: 'l2',
          dtype: 'float64',
        });
        compare(`${c.case} query/gallery ${tag}`, r as unknown as Record<string, number>, c.query_gallery.expected[tag]);
      });
    }
  }

  test('AMI and NMI as PML reports them (scikit-learn), edge cases included', () => {
    for (const [i, m] of fx.mutual_information.entries()) {
      dev.count('AMI');
      dev.count('NMI');
      dev.check('AMI', 'value', adjustedMutualInformation(m.a, m.b), m.ami, `case ${i}: AMI`, 1e-12, 1e-12);
      dev.check('NMI', 'value', normalizedMutualInformation(m.a, m.b), m.nmi, `case ${i}: NMI`, 1e-12, 1e-12);
    }
  });

  // One k-means run (best of n_init) is a random draw, for scikit-learn too (its inertia varies by ~0.5% with
  // random_state on these fixtures). So: our runs with seeds 0..4 against scikit-learn's random_state 0..4.
  // On every fixture our mean is within scikit-learn's own range, and over all fixtures our mean ratio is no
  // worse than scikit-learn's.
  const inertia: string[] = [];
  test('k-means (n_init 10, greedy k-means++): inertia no worse than scikit-learn KMeans(n_init=10)', () => {
    let ours = 0;
    let theirs = 0;
    for (const c of fx.kmeans) {
      const sk = (c as unknown as { sklearn_inertia_by_random_state: number[] }).sklearn_inertia_by_random_state;
      const x = { data: Float64Array.from(c.embeddings), shape: c.shape };
      const runs = [0, 1, 2, 3, 4].map((seed) => kmeans(x, c.k, { dtype: 'float64', seed }));
      const mean = runs.reduce((a, r) => a + r.inertia, 0) / runs.length;
      const skMean = sk.reduce((a, b) => a + b, 0) / sk.length;
      inertia.push(
        `k-means ${c.case}: ours ${mean.toFixed(3)} (mean of 5 seeds), scikit-learn ${skMean.toFixed(3)} (range ${Math.min(...sk).toFixed(3)}..${Math.max(...sk).toFixed(3)})`,
      );
      assert.ok(mean <= Math.max(...sk), `${c.case}: our mean inertia ${mean} exceeds every scikit-learn run (${sk.join(', ')})`);
      ours += mean / sk[0]!;
      theirs += skMean / sk[0]!;
      // the clustering metrics follow: NMI of our best run close to scikit-learn's
      const best = runs.reduce((a, r) => (r.inertia < a.inertia ? r : a));
      assert.ok(normalizedMutualInformation(c.labels, best.labels) >= c.sklearn_nmi - 0.02, `${c.case}: NMI`);
    }
    inertia.push(`k-means overall: ours / scikit-learn mean inertia ratio ${(ours / theirs).toFixed(5)}`);
    assert.ok(ours <= theirs, `mean inertia ratio over the fixtures: ours ${ours / fx.kmeans.length}, scikit-learn ${theirs / fx.kmeans.length}`);
  });

  test("k-means defaults: n_init 10, scikit-learn's 2 + ln k candidates; plain k-means++ and fewer restarts do worse here", () => {
    const c = fx.kmeans[1]!;
    const x = { data: Float64Array.from(c.embeddings), shape: c.shape };
    const dflt = kmeans(x, c.k, { dtype: 'float64' });
    const old = kmeans(x, c.k, { dtype: 'float64', nInit: 3, localTrials: 1 });
    assert.ok(dflt.inertia < old.inertia, `default ${dflt.inertia} vs 3 plain restarts ${old.inertia}`);
    assert.throws(() => kmeans(x, c.k, { localTrials: 0 }), /localTrials must be a positive integer/);
  });

  after(() => {
    console.log(dev.table(`PML metrics`));
    console.log(inertia.join('\n'));
  });
});
