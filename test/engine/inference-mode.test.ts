// inferenceMode (libtorch's c10::InferenceMode): nesting and restoring the state, and inference tensors refused
// by autograd with libtorch's clear error. Model outputs against noGrad: test/models/execution-inference.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, tidy, keep, noGrad, inferenceMode, isInferenceModeEnabled, isInferenceTensor, isGradEnabled, type Tensor } from '../../src/engine/index.js';

test('inferenceMode turns grad off, nests, and restores the state (also on throw)', () => {
  assert.equal(isInferenceModeEnabled(), false);
  inferenceMode(() => {
    assert.equal(isInferenceModeEnabled(), true);
    assert.equal(isGradEnabled(), false);
    inferenceMode(() => assert.equal(isInferenceModeEnabled(), true));
    assert.equal(isInferenceModeEnabled(), true, 'the inner region closed the outer one');
  });
  assert.equal(isInferenceModeEnabled(), false);
  assert.equal(isGradEnabled(), true);
  assert.throws(
    () =>
      inferenceMode(() => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(isInferenceModeEnabled(), false, 'a throw left inference mode open');
  assert.throws(() => inferenceMode(async () => 1), /async function/);
  assert.equal(isInferenceModeEnabled(), false);
});

test('tensors made in inference mode are inference tensors; autograd refuses them with a clear error', () => {
  const w = keep(randn([3]).requireGrad());
  const made = inferenceMode(() => keep(randn([3]).mul(2)));
  const normal = noGrad(() => keep(randn([3]).mul(2)));
  assert.equal(isInferenceTensor(made), true);
  assert.equal(isInferenceTensor(normal), false);
  // Saving an inference tensor for backward (mul saves both operands) is an error naming the cause.
  assert.throws(() => tidy(() => w.mul(made).sum().backward()), /Inference tensors cannot be saved for backward/);
  // clone() outside inference mode gives a normal tensor autograd accepts.
  const copy = made.clone();
  assert.equal(isInferenceTensor(copy), false);
  tidy(() => w.mul(copy).sum().backward());
  assert.deepEqual(w.grad!.toArray(), copy.toArray());
  for (const t of [w, made, normal, copy] as Tensor[]) t.dispose();
});
