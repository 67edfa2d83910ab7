// Values of non-differentiable ops against hand computation: comparisons, logic, rounding, sorting, top-k,
// arg-reductions, one-hot, unique, nonzero, masked select, random draws under a seed, creation ops,
// allclose / equal, and getting data out of every dtype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor,
  int64,
  scalar,
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  randperm,
  manualSeed,
  oneHot,
  allclose,
  equal,
  zerosLike,
  onesLike,
  tidy,
  type DType,
} from '../../src/engine/index.js';
import { assertClose } from '../helpers/tensors.js';

test('comparisons with broadcasting and scalars give bool tensors', () => {
  tidy(() => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor([2, 2, 7]);
    const cases: [string, ReturnType<typeof a.eq>, number[]][] = [
      ['eq', a.eq(b), [0, 1, 0, 0, 0, 0]],
      ['ne', a.ne(b), [1, 0, 1, 1, 1, 1]],
      ['lt', a.lt(b), [1, 0, 1, 0, 0, 1]],
      ['le', a.le(b), [1, 1, 1, 0, 0, 1]],
      ['gt', a.gt(b), [0, 0, 0, 1, 1, 0]],
      ['ge', a.ge(b), [0, 1, 0, 1, 1, 0]],
      ['gt scalar', a.gt(3.5), [0, 0, 0, 1, 1, 1]],
      ['eq scalar', a.eq(5), [0, 0, 0, 0, 1, 0]],
    ];
    for (const [name, t, expected] of cases) {
      assert.equal(t.dtype, 'bool', name);
      assert.deepEqual(t.shape, [2, 3], name);
      assert.deepEqual(t.toArray(), expected, name);
    }
    const m = tensor([true, false, true, false]);
    const n = tensor([true, true, false, false]);
    assert.deepEqual(m.logicalAnd(n).toArray(), [1, 0, 0, 0]);
    assert.deepEqual(m.logicalOr(n).toArray(), [1, 1, 1, 0]);
    assert.deepEqual(m.logicalNot().toArray(), [0, 1, 0, 1]);
    assert.equal(m.all().item(), 0);
    assert.equal(m.any().item(), 1);
    assert.deepEqual(tensor([1, 0, 2, 0, 3, 0], [2, 3]).countNonzero().toArray(), [3]);
    assert.deepEqual(tensor([1, 0, 2, 0, 3, 0], [2, 3]).countNonzero(1).toArray(), [2, 1]);
  });
});

test('rounding, sign, remainder, floorDivide follow Python semantics', () => {
  tidy(() => {
    const x = tensor([-2.5, -1.5, -0.2, 0, 0.5, 1.5, 2.7]);
    assert.deepEqual(x.floor().toArray(), [-3, -2, -1, 0, 0, 1, 2]);
    assert.deepEqual(
      x
        .ceil()
        .toArray()
        .map((v) => v + 0),
      [-2, -1, 0, 0, 1, 2, 3],
    );
    assert.deepEqual(
      x
        .round()
        .toArray()
        .map((v) => v + 0),
      [-2, -2, 0, 0, 0, 2, 3],
    ); // half to even
    assert.deepEqual(
      x
        .sign()
        .toArray()
        .map((v) => v + 0),
      [-1, -1, -1, 0, 1, 1, 1],
    );
    const a = tensor([7, -7, 7, -7]);
    const b = tensor([3, 3, -3, -3]);
    assert.deepEqual(a.remainder(b).toArray(), [1, 2, -2, -1]);
    assert.deepEqual(a.floorDivide(b).toArray(), [2, -3, -3, 2]);
    assert.deepEqual(tensor([1, NaN, Infinity, -2]).isnan().toArray(), [0, 1, 0, 0]);
    assert.deepEqual(tensor([1, NaN, Infinity, -2]).isfinite().toArray(), [1, 0, 0, 1]);
    // integer arithmetic stays integer; int / int is true division (float)
    const i = int64([7, 8]);
    assert.equal(i.add(1).dtype, 'int64');
    assert.equal(i.div(2).dtype, 'float32');
    assert.deepEqual(i.div(2).toArray(), [3.5, 4]);
    assert.equal(i.floorDivide(2).dtype, 'int64');
    assert.deepEqual(i.floorDivide(2).toArray(), [3, 4]);
  });
});

test('sort is stable (ascending and descending); argsort matches', () => {
  tidy(() => {
    const x = tensor([3, 1, 2, 1, 3, 2, 1]);
    const asc = x.sort();
    assert.deepEqual(asc.values.toArray(), [1, 1, 1, 2, 2, 3, 3]);
    assert.deepEqual(asc.indices.toArray(), [1, 3, 6, 2, 5, 0, 4]);
    assert.equal(asc.indices.dtype, 'int64');
    const desc = x.sort(-1, true);
    assert.deepEqual(desc.values.toArray(), [3, 3, 2, 2, 1, 1, 1]);
    assert.deepEqual(desc.indices.toArray(), [0, 4, 2, 5, 1, 3, 6]);
    assert.deepEqual(x.argsort().toArray(), [1, 3, 6, 2, 5, 0, 4]);
    // along dim 0 of a matrix
    const m = tensor([
      [3, 0],
      [1, 5],
      [2, 5],
    ]);
    const s0 = m.sort(0);
    assert.deepEqual(s0.values.toArray(), [1, 0, 2, 5, 3, 5]);
    assert.deepEqual(s0.indices.toArray(), [1, 0, 2, 1, 0, 2]);
    assert.deepEqual(m.argsort(1, true).toArray(), [0, 1, 1, 0, 1, 0]);
    // a long run of ties keeps the original order
    const ties = zeros([1000]);
    assert.deepEqual(
      ties.argsort().toArray(),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
});

test('topk: largest / smallest, along a dim, sorted', () => {
  tidy(() => {
    const x = tensor([
      [5, 1, 4, 9, 2],
      [0, 8, 3, 7, 6],
    ]);
    const t = x.topk(2);
    assert.deepEqual(t.values.toArray(), [9, 5, 8, 7]);
    assert.deepEqual(t.indices.toArray(), [3, 0, 1, 3]);
    const s = x.topk(3, 1, false);
    assert.deepEqual(s.values.toArray(), [1, 2, 4, 0, 3, 6]);
    assert.deepEqual(s.indices.toArray(), [1, 4, 2, 0, 2, 4]);
    const c = x.topk(1, 0);
    assert.deepEqual(c.values.shape, [1, 5]);
    assert.deepEqual(c.values.toArray(), [5, 8, 4, 9, 6]);
    assert.deepEqual(c.indices.toArray(), [0, 1, 0, 0, 1]);
  });
});

test('argmax / argmin (global, per dim, keepdim; first index on ties) and maxWithIndices', () => {
  tidy(() => {
    const x = tensor([
      [1, 7, 7],
      [9, 0, 0],
    ]);
    assert.equal(x.argmax().item(), 3);
    assert.equal(x.argmin().item(), 4);
    assert.deepEqual(x.argmax(1).toArray(), [1, 0]);
    assert.deepEqual(x.argmin(1).toArray(), [0, 1]);
    assert.deepEqual(x.argmax(0, true).shape, [1, 3]);
    assert.deepEqual(x.argmax(0, true).toArray(), [1, 0, 0]);
    const { values, indices } = x.maxWithIndices(1);
    assert.deepEqual(values.toArray(), [7, 9]);
    assert.deepEqual(indices.toArray(), [1, 0]);
    const mn = x.minWithIndices(0, true);
    assert.deepEqual(mn.values.toArray(), [1, 0, 0]);
    assert.deepEqual(mn.indices.toArray(), [0, 1, 1]);
  });
});

test('oneHot: explicit and inferred class count', () => {
  tidy(() => {
    const h = oneHot(int64([2, 0, 1]), 4);
    assert.equal(h.dtype, 'int64');
    assert.deepEqual(h.shape, [3, 4]);
    assert.deepEqual(h.toArray(), [0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    assert.deepEqual(oneHot(int64([1, 3])).shape, [2, 4]);
  });
});

test('unique: sorted values, inverse and counts; nonzero; maskedSelect', () => {
  tidy(() => {
    const { values, inverse, counts } = int64([3, 1, 3, 3, 7, 1]).unique();
    assert.deepEqual(values.toArray(), [1, 3, 7]);
    assert.deepEqual(inverse.toArray(), [1, 0, 1, 1, 2, 0]);
    assert.deepEqual(counts.toArray(), [2, 3, 1]);
    const u2 = tensor([
      [2.5, -1],
      [2.5, 0],
    ]).unique();
    assert.deepEqual(u2.values.toArray(), [-1, 0, 2.5]);
    assert.deepEqual(u2.inverse.shape, [2, 2]);
    assert.deepEqual(u2.inverse.toArray(), [2, 0, 2, 1]);
    const nz = tensor([
      [0, 1, 0],
      [2, 0, 3],
    ]).nonzero();
    assert.deepEqual(nz.shape, [3, 2]);
    assert.deepEqual(nz.toArray(), [0, 1, 1, 0, 1, 2]);
    assert.deepEqual(zeros([4]).nonzero().shape, [0, 1]);
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(x.maskedSelect(x.gt(1.5)).toArray(), [2, 3, 4]);
  });
});

test('random draws are reproducible under manualSeed; randperm is a permutation', () => {
  tidy(() => {
    manualSeed(42);
    const p1 = randperm(50).toArray();
    const r1 = rand([5]).toArray();
    const n1 = randn([5]).toArray();
    const i1 = randint(3, 9, [20]).toArray();
    manualSeed(42);
    assert.deepEqual(randperm(50).toArray(), p1);
    assert.deepEqual(rand([5]).toArray(), r1);
    assert.deepEqual(randn([5]).toArray(), n1);
    assert.deepEqual(randint(3, 9, [20]).toArray(), i1);
    assert.deepEqual(
      [...p1].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.notDeepEqual(
      p1,
      Array.from({ length: 50 }, (_, i) => i),
    );
    manualSeed(43);
    assert.notDeepEqual(randperm(50).toArray(), p1);
    assert.ok(i1.every((v) => Number.isInteger(v) && v >= 3 && v < 9));
    assert.ok(r1.every((v) => v >= 0 && v < 1));
    assert.equal(randperm(50).dtype, 'int64');
    const big = randn([20000]);
    assert.ok(Math.abs(big.mean().item()) < 0.05);
    assert.ok(Math.abs(big.std().item() - 1) < 0.05);
  });
});

test('creation ops: zeros / ones / full / arange / linspace / eye / scalar / *Like', () => {
  tidy(() => {
    assert.deepEqual(zeros([2, 2]).toArray(), [0, 0, 0, 0]);
    assert.equal(zeros([2]).dtype, 'float32');
    assert.deepEqual(ones([3], { dtype: 'int32' }).toArray(), [1, 1, 1]);
    assert.equal(ones([3], { dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(full([2], 2.5).toArray(), [2.5, 2.5]);
    assert.deepEqual(arange(4).toArray(), [0, 1, 2, 3]);
    assert.equal(arange(4).dtype, 'int64');
    assert.deepEqual(arange(1, 2, 0.25, { dtype: 'float64' }).toArray(), [1, 1.25, 1.5, 1.75]);
    assertClose(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(eye(3).toArray(), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const s = scalar(3.5);
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 3.5);
    const t = tensor([[1, 2]], undefined, { dtype: 'float64' });
    assert.equal(zerosLike(t).dtype, 'float64');
    assert.deepEqual(onesLike(t).shape, [1, 2]);
    assert.equal(tensor([[true], [false]]).dtype, 'bool');
    assert.equal(tensor([1, 2], undefined, { requiresGrad: true }).requiresGrad, true);
    assert.equal(tensor(new Float64Array([1, 2])).dtype, 'float64');
    assert.equal(tensor(new BigInt64Array([1n, 2n])).dtype, 'int64');
    assert.equal(tensor(new Int32Array([1, 2])).dtype, 'int32');
    assert.equal(tensor(new Uint8Array([1, 2])).dtype, 'uint8');
  });
});

test('allclose / equal', () => {
  tidy(() => {
    const a = tensor([1, 2, 3]);
    assert.equal(equal(a, tensor([1, 2, 3])), true);
    assert.equal(equal(a, tensor([1, 2, 3.0001])), false);
    assert.equal(equal(a, tensor([[1, 2, 3]])), false);
    assert.equal(allclose(a, tensor([1, 2, 3.00001])), true);
    assert.equal(allclose(a, tensor([1, 2, 3.001])), false);
    assert.equal(allclose(a, tensor([1, 2, 3.001]), 1e-3), true);
    assert.equal(allclose(a, tensor([1.01, 2, 3]), 0, 0.02), true);
  });
});

test('dataSync / toArray / item for every dtype, including int64 and bool', () => {
  const expectations: [DType, string, number[]][] = [
    ['float32', 'Float32Array', [1.5, -2, 0]],
    ['float64', 'Float64Array', [1.5, -2, 0]],
    ['float16', 'Float32Array', [1.5, -2, 0]],
    ['bfloat16', 'Float32Array', [1.5, -2, 0]],
    ['int64', 'BigInt64Array', [1, -2, 0]],
    ['int32', 'Int32Array', [1, -2, 0]],
    ['int16', 'Int16Array', [1, -2, 0]],
    ['int8', 'Int8Array', [1, -2, 0]],
    ['uint8', 'Uint8Array', [1, 254, 0]],
    ['bool', 'Uint8Array', [1, 1, 0]],
  ];
  tidy(() => {
    for (const [dtype, arrayType, values] of expectations) {
      const t = tensor([1.5, -2, 0], undefined, { dtype });
      assert.equal(t.dtype, dtype);
      const d = t.dataSync();
      assert.equal(d.constructor.name, arrayType, dtype);
      assert.deepEqual(Array.from(d as ArrayLike<number | bigint>, Number), values, `${dtype} dataSync`);
      assert.deepEqual(t.toArray(), values, `${dtype} toArray`);
      assert.equal(t.select(0, 0).item(), values[0], `${dtype} item`);
      assert.equal(t.select(0, 2).item(), 0, `${dtype} item`);
      assert.deepEqual(Array.from(t.dataSync('float64') as Float64Array), values, `${dtype} as float64`);
    }
    // int64 beyond 2^31 round-trips through BigInt64Array
    const big = tensor(new BigInt64Array([2n ** 40n + 3n, -(2n ** 35n)]));
    assert.deepEqual(Array.from(big.dataSync() as BigInt64Array), [2n ** 40n + 3n, -(2n ** 35n)]);
    assert.deepEqual(big.toArray(), [2 ** 40 + 3, -(2 ** 35)]);
    assert.equal(big.select(0, 0).item(), 2 ** 40 + 3);
    // helpers
    assert.deepEqual(Array.from(tensor([1, 2]).toInt32Array()), [1, 2]);
    assert.ok(tensor([1, 2]).toFloat64Array() instanceof Float64Array);
    // 0-d and empty tensors
    assert.deepEqual(scalar(7).toArray(), [7]);
    assert.deepEqual(zeros([0, 3]).toArray(), []);
    assert.match(tensor([1, 2]).toString(), /Tensor\(shape=\[2\], dtype=float32, \[1, 2\]\)/);
  });
});

test('dataSync copies: mutating the result or the source array does not alias the tensor', () => {
  tidy(() => {
    const src = new Float32Array([1, 2, 3]);
    const t = tensor(src);
    src[0] = 100;
    assert.deepEqual(t.toArray(), [1, 2, 3]);
    const out = t.dataSync() as Float32Array;
    out[1] = 100;
    assert.deepEqual(t.toArray(), [1, 2, 3]);
  });
});
