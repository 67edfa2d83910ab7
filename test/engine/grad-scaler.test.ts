// GradScaler (dynamic loss scaling for fp16): checked on CPU with float32 gradients and injected inf / NaN. The
// scaled-then-unscaled gradient equals the plain one, a step with inf/NaN is skipped and backs the scale off,
// the scale grows after growthInterval clean steps, and its state survives a checkpoint round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, keep } from '../../src/engine/index.js';
import { SGD, GradScaler } from '../../src/engine/optim/index.js';

function setup() {
  const w = keep(tensor([1, 2, 3]).requireGrad());
  const opt = new SGD([w], { lr: 0.1 });
  const lossOf = () => w.square().sum(); // d/dw = 2w
  return { w, opt, lossOf };
}

test('scale, unscale and step give the unscaled SGD step', () => {
  const { w, opt, lossOf } = setup();
  const scaler = new GradScaler({ initScale: 1024 });
  tidy(() => scaler.scale(lossOf()).backward());
  assert.deepEqual(w.grad!.toArray(), [2048, 4096, 6144], 'backward saw the scaled loss');
  assert.equal(scaler.step(opt), true);
  scaler.update();
  // w - 0.1 * 2w = 0.8 w
  assert.deepEqual(
    w.toArray().map((v) => +v.toFixed(6)),
    [0.8, 1.6, 2.4],
  );
  assert.equal(scaler.getScale(), 1024, 'one clean step does not grow the scale');
  w.dispose();
});

for (const bad of [Infinity, NaN]) {
  test(`a ${bad} gradient skips the step and halves the scale`, () => {
    const { w, opt } = setup();
    const scaler = new GradScaler({ initScale: 256 });
    w.grad = tensor([1, bad, 1]);
    assert.equal(scaler.unscale(opt), true);
    assert.equal(scaler.step(opt), false, 'step() after an inf/NaN unscale must skip');
    scaler.update();
    assert.deepEqual(w.toArray(), [1, 2, 3], 'the weights did not move');
    assert.equal(scaler.getScale(), 128);
    w.dispose();
  });
}

test('the scale grows after growthInterval clean steps in a row, and a bad step resets the count', () => {
  const { w, opt, lossOf } = setup();
  const scaler = new GradScaler({ initScale: 8, growthInterval: 3, growthFactor: 2, backoffFactor: 0.25 });
  const step = (inject: boolean) => {
    opt.zeroGrad();
    tidy(() => scaler.scale(lossOf()).backward());
    if (inject) w.grad = tensor([Infinity, 0, 0]);
    scaler.step(opt);
    scaler.update();
  };
  step(false);
  step(false);
  step(true); // resets the tracker, 8 -> 2
  assert.equal(scaler.getScale(), 2);
  step(false);
  step(false);
  assert.equal(scaler.getScale(), 2);
  step(false); // third clean one in a row
  assert.equal(scaler.getScale(), 4);
  w.dispose();
});

test('state round trip, misuse and bad options are errors that say what is wrong', () => {
  const { w, opt } = setup();
  const a = new GradScaler({ initScale: 64, growthInterval: 5 });
  w.grad = tensor([1, 1, 1]);
  a.step(opt);
  a.update();
  const b = new GradScaler({ growthInterval: 5 });
  b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
  assert.deepEqual(b.stateDict(), { scale: 64, growthTracker: 1 });
  assert.throws(() => b.update(), /update\(\) without unscale\(\) or step\(\)/);
  b.unscale(opt);
  assert.throws(() => b.unscale(opt), /unscale\(\) was already called/);
  assert.throws(() => new GradScaler({ initScale: 0 }), /initScale must be a positive number, got 0/);
  assert.throws(() => new GradScaler({ backoffFactor: 2 }), /backoffFactor must be < 1/);
  assert.throws(() => new GradScaler({ growthInterval: 1.5 }), /growthInterval must be a positive integer/);
  assert.throws(() => b.loadStateDict({ scale: -1, growthTracker: 0 }), /state.scale/);
  w.dispose();
});

test('disabled: the loss is unscaled and every step is taken', () => {
  const { w, opt } = setup();
  const s = new GradScaler({ enabled: false });
  const loss = tensor([3]);
  assert.equal(s.scale(loss), loss);
  w.grad = tensor([Infinity, 0, 0]);
  assert.equal(s.step(opt), true);
  s.update();
  assert.equal(s.getScale(), 2 ** 16);
  w.dispose();
});
