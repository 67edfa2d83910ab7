// Every loss against PyTorch (float64) on the same inputs: value and gradients to 1e-6.
// test/fixtures/losses/reference.json is produced by scripts/fixtures/losses_reference.py, which writes
// each formula again independently (the TF code's custom gradients as autograd Functions).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/engine/index.js';
import { euclideanDistance, lipschitzNormalize, TripletLoss, type MetricLoss, type ReferenceSet } from '../../src/losses/index.js';
import { createLoss } from '../../src/miners/index.js';
import { readFixture, f64, labels as int, assertClose } from './helpers.js';

interface Case {
  case: string;
  loss: string;
  options: Record<string, unknown>;
  ref?: boolean;
  proxies?: number[];
  proxies_shape?: number[];
  expected: { loss: number; grad_embeddings: number[]; grad_ref?: number[]; grad_proxies?: number[] };
}
interface Fixture {
  produced_by: string;
  inputs: { embeddings: number[]; embeddings_shape: number[]; labels: number[]; ref_embeddings: number[]; ref_shape: number[]; ref_labels: number[] };
  normalization: { input: number[]; shape: number[]; upstream: number[]; output: number[]; grad: number[] };
  distance: {
    self: { output: number[]; upstream: number[]; grad: number[] };
    cross: { output: number[]; upstream: number[]; grad_a: number[]; grad_b: number[] };
  };
  cases: Case[];
}

const fx = readFixture<Fixture>('reference.json');
const TOL = 1e-6;

function run(loss: MetricLoss, c: Case): void {
  tidy(() => {
    const emb = f64(fx.inputs.embeddings, fx.inputs.embeddings_shape).requireGrad();
    const y = int(fx.inputs.labels);
    let ref: ReferenceSet | undefined;
    if (c.ref) ref = { embeddings: f64(fx.inputs.ref_embeddings, fx.inputs.ref_shape).requireGrad(), labels: int(fx.inputs.ref_labels) };
    const value = loss.forward(emb, y, ref);
    assert.equal(value.dtype, 'float64');
    assert.deepEqual(value.shape, []);
    value.backward();
    assertClose(value.item(), c.expected.loss, `${c.case}: loss`, TOL, TOL);
    assertClose(emb.grad!, c.expected.grad_embeddings, `${c.case}: d loss / d embeddings`, TOL, TOL);
    if (c.expected.grad_ref) assertClose(ref!.embeddings.grad!, c.expected.grad_ref, `${c.case}: d loss / d ref`, TOL, TOL);
    if (c.expected.grad_proxies) {
      const [p] = loss.parameters();
      assertClose(p!.grad!, c.expected.grad_proxies, `${c.case}: d loss / d proxies`, TOL, TOL);
    }
  });
}

describe('losses vs PyTorch reference', () => {
  test('fixture names its producer', () => {
    assert.match(fx.produced_by, /scripts\/fixtures\/losses_reference\.py with torch \d/);
    assert.ok(fx.cases.length >= 30);
  });

  for (const c of fx.cases) {
    test(c.case, () => {
      const options: Record<string, unknown> = { ...c.options };
      if (c.proxies) options.initialProxies = f64(c.proxies, c.proxies_shape);
      run(createLoss(c.loss, options), c);
      if (c.loss === 'triplet') {
        // both computations must reproduce the reference
        run(new TripletLoss({ ...(c.options as object), path: 'dense' }), c);
        run(new TripletLoss({ ...(c.options as object), path: 'chunked', denseLimit: 16 }), c);
      }
    });
  }

  test('N(v): value and gradient in both regimes (norm < 1, > 1, 0, ~1)', () => {
    tidy(() => {
      const n = fx.normalization;
      for (const impl of ['custom', 'autograd'] as const) {
        const v = f64(n.input, n.shape).requireGrad();
        const out = lipschitzNormalize(v, { impl });
        out.backward(f64(n.upstream, n.shape));
        assertClose(out, n.output, `N(v) ${impl} value`, 1e-12, 1e-12);
        assertClose(v.grad!, n.grad, `N(v) ${impl} gradient`, 1e-12, 1e-10);
      }
    });
  });

  test('Euclidean distance matrix: self (zero diagonal) and cross, with gradients', () => {
    tidy(() => {
      const d = fx.distance;
      const a = f64(fx.inputs.embeddings, fx.inputs.embeddings_shape).requireGrad();
      const ds = euclideanDistance(a);
      ds.backward(f64(d.self.upstream, [10, 10]));
      assertClose(ds, d.self.output, 'self distances', 1e-10, 1e-10);
      assertClose(a.grad!, d.self.grad, 'self distance gradient', 1e-9, 1e-9);
      const b1 = f64(fx.inputs.embeddings, fx.inputs.embeddings_shape).requireGrad();
      const b2 = f64(fx.inputs.ref_embeddings, fx.inputs.ref_shape).requireGrad();
      const dc = euclideanDistance(b1, b2);
      dc.backward(f64(d.cross.upstream, [10, 7]));
      assertClose(dc, d.cross.output, 'cross distances', 1e-10, 1e-10);
      assertClose(b1.grad!, d.cross.grad_a, 'cross distance gradient (a)', 1e-9, 1e-9);
      assertClose(b2.grad!, d.cross.grad_b, 'cross distance gradient (b)', 1e-9, 1e-9);
    });
  });
});
