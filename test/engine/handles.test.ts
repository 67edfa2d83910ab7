// Tensor handles (native/tensor_handles.cc): tidy frees them without a GC, a disposed handle stays an error even
// after its table slot is reused, adopted handles are freed by the GC, and the handles a custom backward gives
// to autograd are released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ones, randn, tidy, keep, customOp, Tensor } from '../../src/engine/index.js';
import { native } from '../../src/native/binding.js';

function fullGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('tidy frees every handle it created, without a GC', () => {
  const before = native.liveTensorHandles();
  const out = tidy(() => {
    let v = ones([4]);
    for (let i = 0; i < 100; i++) v = v.add(1).mul(0.5);
    return v;
  });
  assert.equal(native.liveTensorHandles(), before + 1);
  out.dispose();
  assert.equal(native.liveTensorHandles(), before);
});

test('a disposed handle stays disposed when its slot is reused', () => {
  const a = ones([2]);
  a.dispose();
  // The freed slot is the next one handed out: b takes it, with a new generation.
  const b = ones([3]).mul(2);
  assert.equal(a.isDisposed, true);
  assert.equal(b.isDisposed, false);
  assert.throws(() => a.add(1), /argument 'a' is a disposed tensor/);
  assert.throws(() => a.shape, /tensor was already disposed/);
  assert.equal(native.tensorDispose(a.native), false, 'disposing twice frees nothing');
  assert.deepEqual(b.toArray(), [2, 2, 2]);
  b.dispose();
});

test('a non-tensor argument is named in the error', () => {
  assert.throws(() => native.add({} as never, 1), /argument 'a' must be a Tensor or a number/);
  assert.throws(() => native.tensorShape(7 as never), /argument 'x' must be a Tensor/);
});

test('adopted handles (outside any tidy) are freed by the GC', async () => {
  const before = native.liveTensorHandles();
  (() => {
    for (let i = 0; i < 50; i++) randn([8]);
  })();
  assert.equal(native.liveTensorHandles(), before + 50);
  for (let i = 0; i < 20 && native.liveTensorHandles() > before; i++) {
    fullGc();
    await settle();
  }
  // <=: garbage of earlier tests may be collected too.
  assert.ok(native.liveTensorHandles() <= before, `handles left after GC: ${native.liveTensorHandles()} > ${before}`);
});

test('keep() hands a handle to the GC; disposing it later still frees it at once', () => {
  const before = native.liveTensorHandles();
  const k = tidy(() => keep(ones([2]).add(1)));
  assert.equal(native.liveTensorHandles(), before + 1);
  k.dispose();
  assert.equal(native.liveTensorHandles(), before);
});

test('a custom backward leaves no handles behind', async () => {
  const x = keep(randn([5]).requireGrad());
  await settle();
  const before = native.liveTensorHandles();
  tidy(() => {
    const y = customOp(
      [x],
      (a) => a.mul(3),
      (g) => [g.mul(3)],
    );
    y.sum().backward();
  });
  await settle(); // the handed-over gradient handles are released in a microtask
  assert.deepEqual(x.grad!.toArray(), [3, 3, 3, 3, 3]);
  // x.grad made one handle above (a Tensor outside tidy): count it.
  assert.equal(native.liveTensorHandles(), before + 1);
  x.dispose();
});

test('Tensor.wrap of a handle from a list-returning op is tracked like any other', () => {
  const before = native.liveTensorHandles();
  tidy(() => {
    const parts = ones([6]).split(2);
    assert.equal(parts.length, 3);
    assert.ok(parts.every((p) => p instanceof Tensor));
  });
  assert.equal(native.liveTensorHandles(), before);
});
