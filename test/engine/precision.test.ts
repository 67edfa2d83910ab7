import test from 'node:test';
import assert from 'node:assert/strict';
import { autocast, isAutocastEnabled, cpuHasNativeBf16, resolvePrecision, replaceData, randn, tidy, zeros } from '../../src/engine/index.js';

test('autocast: matmul and conv run in bf16 inside, float32 outside; state restored after a throw; nesting keeps the outer region', () =>
  tidy(() => {
    const a = randn([4, 8]);
    const b = randn([8, 3]);
    assert.equal(isAutocastEnabled(), false);
    const inside = autocast(() => {
      assert.equal(isAutocastEnabled(), true);
      const nested = autocast(() => a.matmul(b));
      assert.equal(isAutocastEnabled(), true, 'leaving a nested region keeps the outer one open');
      return { y: a.matmul(b), nested, sum: a.add(a) };
    });
    assert.equal(inside.y.dtype, 'bfloat16');
    assert.equal(inside.nested.dtype, 'bfloat16');
    assert.equal(inside.sum.dtype, 'float32', 'element-wise ops keep their input dtype');
    assert.equal(isAutocastEnabled(), false);
    assert.equal(a.matmul(b).dtype, 'float32');
    assert.throws(
      () =>
        autocast(() => {
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(isAutocastEnabled(), false, 'a throw inside leaves autocast off');
    const ref = a.matmul(b);
    const rel = inside.y.to('float32').sub(ref).norm().item() / ref.norm().item();
    assert.ok(rel < 2e-2, `bf16 matmul within 2e-2 relative of float32, got ${rel}`);
  }));

test('autocast: gradients flow back to float32 leaves', () =>
  tidy(() => {
    const w = randn([8, 3]);
    w.requiresGrad = true;
    const x = randn([5, 8]);
    const y = autocast(() => x.matmul(w));
    y.to('float32').square().sum().backward();
    assert.equal(w.grad!.dtype, 'float32');
    assert.deepEqual(w.grad!.shape, [8, 3]);
    const g = x.t().matmul(x.matmul(w)).mul(2);
    assert.ok(w.grad!.sub(g).norm().item() / g.norm().item() < 3e-2);
  }));

test('resolvePrecision: auto follows the CPU flags; bad requests name the value', () => {
  assert.equal(resolvePrecision('auto'), cpuHasNativeBf16() ? 'bf16' : 'fp32');
  assert.equal(resolvePrecision('fp32'), 'fp32');
  assert.equal(resolvePrecision('bf16'), 'bf16');
  assert.throws(() => resolvePrecision('half' as never), /precision must be 'fp32', 'bf16', 'fp16' or 'auto', got "half"/);
  // fp16 is a CUDA-only choice: refused on the CPU with the way out named, accepted for a CUDA device.
  assert.throws(() => resolvePrecision('fp16'), /precision 'fp16' needs a CUDA device .*this model is on 'cpu': use 'bf16' or 'fp32'/);
  assert.equal(resolvePrecision('fp16', 'cuda:0'), 'fp16');
});

test('replaceData: same tensor object, new layout and values, requiresGrad kept; shape and dtype checked', () =>
  tidy(() => {
    const p = randn([2, 3, 4, 5]);
    p.requiresGrad = true;
    const before = p.toArray();
    const cl = p.detach().toChannelsLast();
    replaceData(p, cl);
    assert.equal(p.memoryFormat, 'channels_last');
    assert.equal(p.requiresGrad, true);
    assert.deepEqual(p.toArray(), before);
    assert.throws(() => replaceData(p, zeros([2, 3, 4, 4])), /shape \[2, 3, 4, 4\] does not match the parameter's \[2, 3, 4, 5\]/);
    assert.throws(() => replaceData(p, zeros([2, 3, 4, 5], { dtype: 'float64' })), /dtype/);
  }));
