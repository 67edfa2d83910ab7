// The gradient checker itself: it passes correct gradients, catches wrong ones with an informative
// message, handles constants (indices) and rejects inputs it cannot check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, int64, customOp, tidy, liveTensors, type Tensor } from '../../src/engine/index.js';
import { gradcheck, GradcheckError } from '../../src/engine/testing/index.js';
import { rand64, assertThrowsMessage } from '../helpers/tensors.js';

test('gradcheck passes a correct gradient and leaves its inputs unchanged', () => {
  const x = rand64([3, 4]);
  const y = rand64([4]);
  const before = x.toArray();
  assert.equal(
    gradcheck((a, b) => a.mul(b).sin(), [x, y]),
    true,
  );
  assert.deepEqual(x.toArray(), before);
  assert.equal(x.requiresGrad, false);
  assert.equal(x.grad, null);
});

test('gradcheck does not leak tensors', () => {
  const x = rand64([5]);
  const before = liveTensors();
  gradcheck((a) => a.exp().sum(), [x]);
  assert.equal(liveTensors(), before);
});

test('gradcheck detects a wrong backward and names the input, element and values', () => {
  const x = rand64([2, 3], { seed: 3 });
  const y = rand64([2, 3], { seed: 4 });
  // d/dx (x*y) = y, but the backward below returns 2y for x (and the right value for y).
  const badMul = (a: Tensor, b: Tensor) =>
    customOp(
      [a, b],
      (p, q) => p.mul(q),
      (g) => [g.mul(b).mul(2), g.mul(a)],
    );
  let err: unknown;
  try {
    gradcheck(badMul, [x, y], { name: 'badMul' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof GradcheckError, 'expected a GradcheckError');
  const msg = (err as GradcheckError).message;
  assert.match(msg, /gradcheck\(badMul\): 6 of 12 gradient elements differ/);
  assert.match(msg, /input 0 \[\d, \d\]: analytic -?[\d.]+(e-?\d+)?, numeric -?[\d.]+/);
  assert.doesNotMatch(msg, /input 1 \[/);
  const mm = (err as GradcheckError).mismatches;
  assert.equal(mm.length, 6);
  for (const m of mm) {
    assert.equal(m.input, 0);
    // The analytic value is exactly twice the true (numerical) one.
    assert.ok(Math.abs(m.analytic - 2 * m.numeric) < 1e-6, `analytic ${m.analytic} vs 2 * numeric ${m.numeric}`);
  }
});

test('gradcheck treats integer inputs as constants and checks the rest', () => {
  const x = rand64([4, 3]);
  const idx = int64([2, 0, 2]);
  assert.equal(
    gradcheck((a, i) => a.indexSelect(0, i).square(), [x, idx]),
    true,
  );
});

test('gradcheck respects checkInputs', () => {
  const x = rand64([3]);
  const y = rand64([3]);
  // y's gradient is deliberately wrong, but it is not checked.
  const op = (a: Tensor, b: Tensor) =>
    customOp(
      [a, b],
      (p, q) => p.mul(q),
      (g) => [g.mul(b), g.mul(0)],
    );
  assert.equal(gradcheck(op, [x, y], { checkInputs: [true, false] }), true);
  assert.throws(() => gradcheck(op, [x, y]), GradcheckError);
});

test('gradcheck rejects float32 inputs, non-float outputs and disconnected outputs', () => {
  tidy(() => {
    assertThrowsMessage(() => gradcheck((a) => a.exp(), [tensor([1, 2])]), 'input 0 has dtype float32', 'float64');
    const x = rand64([3]);
    assertThrowsMessage(() => gradcheck((a) => a.gt(0), [x]), 'fn returned dtype bool');
    assertThrowsMessage(() => gradcheck(() => rand64([2]), [x]), 'not connected to any checked input');
    assertThrowsMessage(() => gradcheck((a) => a, [int64([1])]), 'no floating-point input');
  });
});

test('gradcheck tolerances: a small error passes a loose atol and fails a tight one', () => {
  const x = rand64([4], { seed: 9 });
  const offBy = (d: number) => (a: Tensor) =>
    customOp(
      [a],
      (p) => p.square(),
      (g) => [g.mul(a).mul(2).add(d)],
    );
  assert.equal(gradcheck(offBy(1e-7), [x]), true);
  assert.throws(() => gradcheck(offBy(1e-3), [x]), /differ from central differences/);
  assert.equal(gradcheck(offBy(1e-3), [x], { atol: 1e-2 }), true);
});
