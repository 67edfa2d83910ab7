// Autograd behaviour: customOp (checked with gradcheck), grad mode, functional grad(), backward with
// retainGraph, gradient accumulation, zeroGrad, detach, leaf / grad_fn metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customOp, noGrad, enableGrad, isGradEnabled, grad, tensor, ones, tidy, liveTensors, type Tensor } from '../../src/engine/index.js';
import { gradcheck, GradcheckError, rand64, assertClose } from '../helpers/tensors.js';

const f64 = (d: number[], shape?: number[]) => tensor(Float64Array.from(d), shape ?? [d.length], { dtype: 'float64' });

// A custom op with a hand-written backward: y = x * sigmoid(x) * w (w broadcast over rows).
function swishScaled(x: Tensor, w: Tensor, wrongBackward = false): Tensor {
  return customOp(
    [x, w],
    (a, b) => a.mul(a.sigmoid()).mul(b),
    (g) => {
      const s = x.detach().sigmoid();
      const dydx = s.add(x.detach().mul(s).mul(s.rsub(1))).mul(w.detach()); // s + x s (1 - s), times w
      const gx = g.mul(wrongBackward ? s.mul(w.detach()) : dydx);
      const gw = g.mul(x.detach().mul(s)).sum(0);
      return [gx, gw];
    },
  );
}

test('customOp with a correct backward passes gradcheck', () => {
  assert.equal(
    gradcheck((x, w) => swishScaled(x, w), [rand64([3, 4], { low: -2, high: 2 }), rand64([4])]),
    true,
  );
});

test('customOp with a wrong backward is caught by gradcheck', () => {
  assert.throws(
    () => gradcheck((x, w) => swishScaled(x, w, true), [rand64([3, 4], { low: -2, high: 2 }), rand64([4])], { name: 'swish' }),
    (e: unknown) =>
      e instanceof GradcheckError && /gradcheck\(swish\): 12 of 16 gradient elements differ/.test(e.message) && e.mismatches.every((m) => m.input === 0),
  );
});

test('customOp: null gradient for an input, forward sees detached inputs without grad, output joins the graph', () => {
  tidy(() => {
    const x = f64([1, 2, 3]).requireGrad();
    const c = f64([4, 5, 6]).requireGrad();
    let sawGrad: boolean | undefined;
    const y = customOp(
      [x, c],
      (a, b) => {
        sawGrad = a.requiresGrad || b.requiresGrad || isGradEnabled();
        return a.mul(b);
      },
      (g) => [g.mul(c.detach()), null],
    );
    assert.equal(sawGrad, false);
    assert.equal(y.requiresGrad, true);
    assert.equal(y.gradFnName, 'JsCustomBackward');
    y.sum().backward();
    assertClose(x.grad!, [4, 5, 6]);
    assert.equal(c.grad, null);
  });
});

test('customOp: no graph when no input requires grad or grad is off', () => {
  tidy(() => {
    const x = f64([1, 2]);
    let called = 0;
    const op = (a: Tensor) =>
      customOp(
        [a],
        (p) => p.mul(3),
        (g) => {
          called++;
          return [g.mul(3)];
        },
      );
    const y = op(x);
    assert.equal(y.requiresGrad, false);
    assertClose(y, [3, 6]);
    const z = noGrad(() => op(x.clone().requireGrad()));
    assert.equal(z.requiresGrad, false);
    assert.equal(called, 0);
  });
});

test('customOp backward does not leak tensors (called outside any tidy)', async () => {
  const x = f64([1, 2, 3]).requireGrad();
  const w = f64([1, 1, 1]);
  // warm-up (first call may create cached wrappers)
  swishScaled(x, w).sum().backward();
  x.zeroGrad();
  const before = liveTensors();
  const y = swishScaled(x, w);
  const s = y.sum();
  s.backward();
  const g = x.grad!;
  assert.equal(g.shape[0], 3);
  await new Promise((r) => setImmediate(r));
  // y, s and the handle g are the only new tensors alive.
  assert.equal(liveTensors() - before, 3);
  for (const t of [y, s, g, x, w]) t.dispose();
});

test('customOp composes with built-in ops and chains (second-order use of its output)', () => {
  const a = rand64([2, 3]);
  assert.equal(
    gradcheck((x) => swishScaled(swishScaled(x, ones([3], { dtype: 'float64' })).exp(), ones([3], { dtype: 'float64' })).sum(1), [a]),
    true,
  );
});

test('noGrad / enableGrad nest and restore the previous mode, also after an exception', () => {
  assert.equal(isGradEnabled(), true);
  tidy(() => {
    const x = f64([1, 2]).requireGrad();
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      const inner = enableGrad(() => {
        assert.equal(isGradEnabled(), true);
        return x.mul(2);
      });
      assert.equal(isGradEnabled(), false);
      assert.equal(inner.requiresGrad, true);
      return x.mul(3);
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFnName, null);
    assert.throws(
      () =>
        noGrad(() => {
          throw new Error('inside');
        }),
      /inside/,
    );
    assert.equal(isGradEnabled(), true);
    assert.throws(
      () =>
        noGrad(() =>
          enableGrad(() => {
            throw new Error('deeper');
          }),
        ),
      /deeper/,
    );
    assert.equal(isGradEnabled(), true);
  });
});

test('grad(): values, unused inputs give null, gradOutputs, createGraph for second derivatives', () => {
  tidy(() => {
    const x = f64([1, 2, 3]).requireGrad();
    const u = f64([5]).requireGrad();
    const y = x.pow(3).sum();
    const [gx, gu] = grad([y], [x, u], { retainGraph: true });
    assertClose(gx!, [3, 12, 27]);
    assert.equal(gu, null);
    assert.equal(x.grad, null, 'grad() does not accumulate into .grad');
    // vector-Jacobian product with gradOutputs
    const z = x.square();
    const [vjp] = grad([z], [x], { gradOutputs: [f64([1, 0, 2])] });
    assertClose(vjp!, [2, 0, 12]);
    // second derivative: d2/dx2 sum(x^3) = 6x
    const [g1] = grad([x.pow(3).sum()], [x], { createGraph: true });
    assert.equal(g1!.requiresGrad, true);
    const [g2] = grad([g1!.sum()], [x]);
    assertClose(g2!, [6, 12, 18]);
  });
});

test('backward: retainGraph allows a second pass and gradients accumulate; zeroGrad clears them', () => {
  tidy(() => {
    const x = f64([1, -2]).requireGrad();
    const y = x.square().sum();
    y.backward(undefined, { retainGraph: true });
    assertClose(x.grad!, [2, -4]);
    y.backward();
    assertClose(x.grad!, [4, -8]);
    assert.throws(() => y.backward(), /second time/);
    x.zeroGrad();
    assert.equal(x.grad, null);
    x.mul(3).sum().backward();
    assertClose(x.grad!, [3, 3]);
    // explicit gradient for a non-scalar output
    x.zeroGrad();
    x.mul(f64([2, 5])).backward(f64([1, 10]));
    assertClose(x.grad!, [2, 50]);
    // setting .grad directly
    x.grad = f64([7, 7]);
    assertClose(x.grad!, [7, 7]);
    x.grad = null;
    assert.equal(x.grad, null);
  });
});

test('detach: shares values, cuts the graph; leaf and gradFn metadata', () => {
  tidy(() => {
    const x = f64([1, 2]).requireGrad();
    assert.equal(x.isLeaf, true);
    assert.equal(x.gradFnName, null);
    const y = x.mul(2);
    assert.equal(y.isLeaf, false);
    assert.match(y.gradFnName ?? '', /Mul/);
    const d = y.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.isLeaf, true);
    assertClose(d, [2, 4]);
    // a detached branch contributes no gradient
    y.add(d.mul(100)).sum().backward();
    assertClose(x.grad!, [2, 2]);
    // detach shares storage: in-place writes show through
    const base = f64([1, 1]);
    const alias = base.detach();
    alias.fill_(9);
    assertClose(base, [9, 9]);
    // requiresGrad setter
    const z = f64([1]);
    z.requiresGrad = true;
    assert.equal(z.requiresGrad, true);
    z.requiresGrad = false;
    assert.equal(z.requiresGrad, false);
  });
});

test('in-place ops never record autograd', () => {
  tidy(() => {
    const p = f64([1, 2]).requireGrad();
    const before = p.gradFnName;
    p.add_(f64([1, 1]), 0.5).mul_(2);
    assert.equal(p.gradFnName, before);
    assert.equal(p.isLeaf, true);
    assertClose(p, [3, 5]);
  });
});
