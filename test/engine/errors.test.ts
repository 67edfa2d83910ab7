// Error messages: mistakes in shapes, dtypes, data, lifetimes and custom backwards raise a JS Error whose
// message names the op and the problem, and the process (and autograd) keep working afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor,
  int64,
  randn,
  zeros,
  cat,
  stack,
  conv2d,
  linear,
  crossEntropy,
  mseLoss,
  customOp,
  dropout,
  manualSeed,
  maxPool2d,
  grad,
  tidy,
  liveTensors,
  isGradEnabled,
  noGrad,
  type Tensor,
} from '../../src/engine/index.js';
import { assertThrowsMessage, assertClose } from '../helpers/tensors.js';

test('matmul / linear shape mismatches name both shapes', () => {
  tidy(() => {
    assertThrowsMessage(() => randn([2, 3]).matmul(randn([4, 5])), /^matmul: /, 'cannot be multiplied', '2x3', '4x5');
    assertThrowsMessage(() => randn([2, 3, 4]).matmul(randn([3, 5, 6])), /^matmul: /, /size|match|shape/i);
    assertThrowsMessage(() => randn([3]).matmul(randn([4])), /^matmul: /, /size|match|shape/i);
    assertThrowsMessage(() => linear(randn([2, 3]), randn([4, 5])), /^linear: /, '2x3', '5x4');
  });
});

test('conv2d: wrong rank, wrong channels, kernel larger than input', () => {
  tidy(() => {
    assertThrowsMessage(() => conv2d(randn([3, 5, 5]), randn([4, 3, 3, 3])), /^conv2d: /, 'x of shape [N, C, H, W]', '[3, 5, 5]');
    assertThrowsMessage(() => conv2d(randn([1, 3, 5, 5]), randn([4, 2, 3, 3])), /^conv2d: /, 'expected input[1, 3, 5, 5] to have 2 channels', 'got 3 channels');
    assertThrowsMessage(() => conv2d(randn([1, 2, 2, 2]), randn([4, 2, 3, 3])), /^conv2d: /, /kernel size can't be greater than actual input size|too small/i);
    assertThrowsMessage(() => conv2d(randn([1, 4, 5, 5]), randn([4, 2, 3, 3]), null, { groups: 3 }), /^conv2d: /, /groups|divisible/i);
    assertThrowsMessage(() => conv2d(randn([1, 2, 5, 5]), randn([4, 2, 3, 3]), null, { stride: 1.5 }), /^conv2d: /, "argument 'stride'", 'integer');
    assertThrowsMessage(() => maxPool2d(randn([1, 1, 2, 2]), 3), /^maxPool2d: /, 'Output size is too small');
  });
});

test('cat / stack: mismatched sizes and empty lists', () => {
  tidy(() => {
    assertThrowsMessage(
      () => cat([randn([2, 3]), randn([2, 4])]),
      /^cat: /,
      'Sizes of tensors must match except in dimension 0',
      'Expected size 3 but got size 4',
    );
    assertThrowsMessage(() => cat([randn([2, 3]), randn([2, 3, 1])], 0), /^cat: /, /dimensions|dim/);
    assertThrowsMessage(() => cat([]), /^cat: /, 'non-empty list');
    assertThrowsMessage(() => stack([randn([2]), randn([3])]), /^stack: /, /same size|equal size/);
    assertThrowsMessage(() => cat([randn([2]), 3 as unknown as Tensor]), /^cat: /, "argument 'tensors'[1] must be a Tensor");
  });
});

// libtorch's own wording is matched loosely where versions differ (2.x: 'Expected dtype int32/int64 for index').
test('wrong dtypes: float index, float class targets, bool arithmetic', () => {
  tidy(() => {
    assertThrowsMessage(() => randn([3, 3]).indexSelect(0, tensor([0, 1])), /^indexSelect: /, 'Expected dtype int32 or int64 for index');
    assertThrowsMessage(() => randn([3, 3]).gather(1, tensor([[0], [1], [2]])), /^gather: /, /Expected dtype (int32\/)?int64 for index/);
    assertThrowsMessage(() => randn([3, 3]).scatterAdd(0, tensor([[0, 1, 2]]), randn([1, 3])), /^scatterAdd: /, /Expected dtype (int32\/)?int64 for index/);
    // libtorch 1.13: "expected scalar type Long but found Float"; 2.x: "expected target dtype to be Long or Byte, but got Float".
    assertThrowsMessage(
      () => crossEntropy(randn([2, 3]), tensor([0, 1])),
      /^crossEntropy: /,
      /expected (scalar type|target dtype to be) Long.*(found|got) Float/,
    );
    assertThrowsMessage(() => crossEntropy(randn([2, 3]), int64([0, 5])), /^crossEntropy: /, 'Target 5 is out of bounds');
    assertThrowsMessage(() => randn([2, 3]).indexSelect(0, int64([5])), /^indexSelect: /, 'index out of range');
    assertThrowsMessage(() => tensor([true, false]).sub(tensor([true, true])), /^sub: /, /bool/i);
    assertThrowsMessage(() => zeros([2], { dtype: 'float8' as never }), /^zeros: /, "unknown dtype 'float8'");
  });
});

test('tensor(): shape / data length mismatch and ragged arrays', () => {
  assertThrowsMessage(() => tensor(new Float32Array(5), [2, 3]), 'tensor(): shape [2, 3] needs 6 elements, the data has 5');
  assertThrowsMessage(() => tensor([1, 2, 3], [2, 2]), 'tensor(): shape [2, 2] needs 4 elements, the data has 3');
  assertThrowsMessage(() => tensor([[1, 2], [3]]), 'ragged nested array at [1]', 'expected 2 elements');
  assertThrowsMessage(() => tensor([[1, 2], 3] as never), 'ragged nested array at [1]');
  assertThrowsMessage(() => int64([1, 2, 3], [4]), 'shape [4] needs 4 elements, the data has 3');
});

test('broadcasting, reshape, reductions and item() report shapes', () => {
  tidy(() => {
    assertThrowsMessage(() => randn([2, 3]).add(randn([4])), /^add: /, 'size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1');
    assertThrowsMessage(() => mseLoss(randn([2, 3]), randn([3, 2])), /^mseLoss: /, 'must match');
    assertThrowsMessage(() => randn([2, 3]).reshape([4, 2]), /^reshape: /, "shape '[4, 2]' is invalid for input of size 6");
    assertThrowsMessage(() => randn([2, 3]).sum(2), /^sum: /, /Dimension out of range/);
    assertThrowsMessage(() => randn([2]).item(), /^item: /, 'exactly one element', '[2]');
    assertThrowsMessage(() => randn([2, 2, 2]).t(), 't() expects a 2-D tensor', '[2, 2, 2]');
    assertThrowsMessage(() => randn([2]).size(3), 'size(3)', '1 dimensions');
    assertThrowsMessage(() => randn([2]).clamp(null, null), /^clamp: /, "needs 'min', 'max' or both");
    assertThrowsMessage(() => dropout(randn([2]), 1.5), 'dropout: p must be in [0, 1)', '1.5');
    assertThrowsMessage(() => manualSeed(-1), 'manualSeed', '-1');
    assertThrowsMessage(() => randn([2]).transpose(0, 1.5), /^transpose: /, "argument 'dim1' must be an integer");
  });
});

test('a disposed tensor used as an argument or receiver', () => {
  const d = randn([2]);
  d.dispose();
  assert.equal(d.isDisposed, true);
  d.dispose(); // idempotent
  tidy(() => {
    assertThrowsMessage(() => randn([2]).add(d), /^add: /, "argument 'b' is a disposed tensor");
    assertThrowsMessage(() => d.mul(2), /^mul: /, "argument 'a' is a disposed tensor");
    assertThrowsMessage(() => cat([randn([2]), d]), /^cat: /, "argument 'tensors'[1] is a disposed tensor");
    assertThrowsMessage(
      () =>
        randn([3, 2]).indexSelect(
          0,
          (() => {
            const i = int64([0]);
            i.dispose();
            return i;
          })(),
        ),
      "argument 'index' is a disposed tensor",
    );
    assertThrowsMessage(() => d.shape, 'tensor was already disposed');
    assertThrowsMessage(() => d.toArray(), 'tensor was already disposed');
    assertThrowsMessage(() => d.item(), 'tensor was already disposed');
  });
});

test('backward mistakes: non-scalar without gradient, no grad, graph freed, wrong gradient shape', () => {
  tidy(() => {
    const x = randn([3]).requireGrad();
    assertThrowsMessage(() => x.mul(2).backward(), /^backward: /, 'grad can be implicitly created only for scalar outputs');
    assertThrowsMessage(() => randn([1]).sum().backward(), /^backward: /, 'does not require grad');
    const y = x.square().sum();
    y.backward();
    assertThrowsMessage(() => y.backward(), /^backward: /, 'backward through the graph a second time', 'retain_graph');
    assertThrowsMessage(() => x.mul(2).backward(randn([4])), /^backward: /, /shape|size/i);
    assertThrowsMessage(() => grad([x.square().sum()], [randn([3])], { retainGraph: false }), /^grad: /, /does not require grad|not have been used/);
  });
});

test('custom backward mistakes: wrong count, throwing, non-array, non-Tensor, wrong shape', () => {
  tidy(() => {
    const a = randn([2]).requireGrad();
    const b = randn([2]).requireGrad();
    const twoIn = (back: (g: Tensor) => unknown) => customOp([a, b], (p, q) => p.mul(q), back as (g: Tensor) => (Tensor | null)[]);
    assertThrowsMessage(
      () =>
        twoIn((g) => [g])
          .sum()
          .backward(),
      'customOp: backward returned 1 gradients for 2 inputs',
    );
    assertThrowsMessage(
      () =>
        twoIn((g) => [g, g, g])
          .sum()
          .backward(),
      'customOp: backward returned 3 gradients for 2 inputs',
    );
    assertThrowsMessage(
      () =>
        twoIn(() => {
          throw new Error('boom in my backward');
        })
          .sum()
          .backward(),
      'boom in my backward',
    );
    assertThrowsMessage(
      () =>
        twoIn((g) => g)
          .sum()
          .backward(),
      'customOp: backward must return an array',
      'a single Tensor (wrap it in an array)',
    );
    assertThrowsMessage(
      () =>
        twoIn(() => undefined)
          .sum()
          .backward(),
      'customOp: backward must return an array',
      'got undefined',
    );
    assertThrowsMessage(
      () =>
        twoIn((g) => [g, 3])
          .sum()
          .backward(),
      'customOp: backward returned number as gradient 1; expected a Tensor or null',
    );
    assertThrowsMessage(
      () =>
        twoIn(() => [randn([5]), null])
          .sum()
          .backward(),
      /^backward: /,
      'JsCustomBackward returned an invalid gradient at index 0',
      '[5]',
      '[2]',
    );
    assertThrowsMessage(
      () =>
        customOp(
          [a],
          () => {
            throw new Error('boom in forward');
          },
          (g) => [g],
        ),
      'boom in forward',
    );
    // Autograd still works after all of that, and grad mode was restored.
    assert.equal(isGradEnabled(), true);
    a.zeroGrad();
    twoIn((g) => [g.mul(b.detach()), g.mul(a.detach())])
      .sum()
      .backward();
    assertClose(a.grad!, b.toArray(), { atol: 1e-6 });
  });
});

test('errors inside tidy / noGrad leave no live tensors and restore grad mode', () => {
  const before = liveTensors();
  for (let i = 0; i < 20; i++) {
    assert.throws(() =>
      tidy(() => {
        const x = randn([4, 4]).requireGrad();
        noGrad(() => x.matmul(randn([3, 3])));
      }),
    );
  }
  assert.equal(liveTensors(), before);
  assert.equal(isGradEnabled(), true);
});

test('wrong JS argument types give TypeErrors naming the argument', () => {
  tidy(() => {
    const x = randn([2, 2]);
    const e1 = assertThrowsMessage(() => x.add('a' as never), /^add: /, "argument 'b' must be a Tensor or a number");
    assert.ok(e1.length < 200);
    let err: unknown;
    try {
      x.reshape('x' as never);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TypeError);
    assert.match((err as Error).message, /^reshape: argument 'shape' must be an array of integers/);
  });
});
