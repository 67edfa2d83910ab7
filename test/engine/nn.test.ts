// nn layers: shapes, values against hand computation, PyTorch names, initialisation ranges, BatchNorm modes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, ones, tidy, keep, randn, manualSeed, noGrad, Tensor, arange } from '../../src/engine/index.js';
import {
  type Module,
  Linear,
  Conv2d,
  BatchNorm1d,
  BatchNorm2d,
  ReLU,
  Flatten,
  Identity,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  Dropout,
  Sequential,
  xavierUniform,
  glorotUniform,
  heNormal,
  kaimingUniform,
  kaimingNormal,
  calculateGain,
  calculateFanInAndFanOut,
  truncNormal_,
} from '../../src/engine/nn/index.js';

function close(actual: Tensor | number[], expected: number[], atol = 1e-5, msg = ''): void {
  const a = actual instanceof Tensor ? actual.toArray() : actual;
  assert.equal(a.length, expected.length, `${msg} length`);
  a.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= atol, `${msg} [${i}]: got ${v}, expected ${expected[i]}`));
}

function set(t: Tensor, values: number[]): void {
  noGrad(() => t.copy_(tensor(values, t.shape, { dtype: t.dtype })));
}

test('Linear: names, shapes, y = xW^T + b, default init bounds', () =>
  tidy(() => {
    manualSeed(1);
    const lin = new Linear(3, 2);
    assert.deepEqual([...lin.stateDict().keys()], ['weight', 'bias']);
    assert.deepEqual(lin.weight.shape, [2, 3]);
    set(lin.weight, [1, 2, 3, 4, 5, 6]);
    set(lin.bias!, [0.5, -1]);
    const y = lin.forward(
      tensor([
        [1, 0, -1],
        [2, 1, 0],
      ]),
    );
    assert.deepEqual(y.shape, [2, 2]);
    close(y, [1 - 3 + 0.5, 4 - 6 - 1, 2 + 2 + 0.5, 8 + 5 - 1]);
    assert.throws(() => lin.forward(zeros([2, 4])), /last dimension is 4/);

    const big = new Linear(400, 300);
    const b = 1 / Math.sqrt(400);
    assert.ok(big.weight.abs().max().item() <= b + 1e-7);
    assert.ok(big.weight.abs().max().item() > 0.95 * b, 'weights fill the range');
    // U(-b, b) has std b/sqrt(3)
    assert.ok(Math.abs(big.weight.std().item() - b / Math.sqrt(3)) < 0.01 * b);
    assert.ok(big.bias!.abs().max().item() <= b + 1e-7);
    const nb = new Linear(4, 5, { bias: false });
    assert.equal(nb.bias, null);
    assert.deepEqual([...nb.stateDict().keys()], ['weight']);
    // gradients flow to weight and bias
    const out = lin.forward(ones([1, 3])).sum();
    out.backward();
    close(lin.weight.grad!, [1, 1, 1, 1, 1, 1]);
    close(lin.bias!.grad!, [1, 1]);
    for (const m of [lin, big, nb]) m.dispose();
  }));

test('Conv2d: values, stride / padding / dilation / groups shapes, init bound', () =>
  tidy(() => {
    const conv = new Conv2d(1, 1, 2, { bias: true });
    set(conv.weight, [1, 2, 3, 4]);
    set(conv.bias!, [10]);
    const x = arange(0, 9, 1, { dtype: 'float32' }).reshape([1, 1, 3, 3]);
    // x = [[0,1,2],[3,4,5],[6,7,8]]; out[i][j] = x[i][j] + 2x[i][j+1] + 3x[i+1][j] + 4x[i+1][j+1] + 10
    const y = conv.forward(x);
    assert.deepEqual(y.shape, [1, 1, 2, 2]);
    close(y, [0 + 2 + 9 + 16 + 10, 1 + 4 + 12 + 20 + 10, 3 + 8 + 18 + 28 + 10, 4 + 10 + 21 + 32 + 10]);

    const c = new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 });
    assert.deepEqual(c.weight.shape, [6, 2, 3, 3]);
    assert.deepEqual(c.forward(zeros([2, 4, 9, 8])).shape, [2, 6, 5, 4]);
    const d = new Conv2d(2, 3, [3, 1], { dilation: [2, 1], bias: false });
    assert.deepEqual(d.forward(zeros([1, 2, 7, 5])).shape, [1, 3, 3, 5]);
    assert.deepEqual([...d.stateDict().keys()], ['weight']);
    const bound = 1 / Math.sqrt(2 * 9);
    assert.ok(c.weight.abs().max().item() <= bound + 1e-7);
    assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), /divisible by groups/);
    assert.throws(() => c.forward(zeros([1, 3, 5, 5])), /expected input \[N, 4, H, W\]/);
    for (const m of [conv, c, d]) m.dispose();
  }));

test('BatchNorm2d: training normalises with batch stats and updates PyTorch-named buffers', () =>
  tidy(() => {
    const bn = new BatchNorm2d(2);
    assert.deepEqual([...bn.stateDict().keys()], ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    assert.equal(bn.numBatchesTracked.dtype, 'int64');
    // channel 0 values: 1,2,3,4 ; channel 1: 10,10,20,20 (N=2, H=1, W=2)
    const x = tensor([
      [[[1, 2]], [[10, 20]]],
      [[[3, 4]], [[10, 20]]],
    ]);
    set(bn.weight!, [2, 1]);
    set(bn.bias!, [1, 0]);
    const y = bn.forward(x);
    const m0 = 2.5,
      v0 = 1.25; // biased variance for normalisation
    const e = 1e-5;
    const n0 = [1, 2, 3, 4].map((v) => (2 * (v - m0)) / Math.sqrt(v0 + e) + 1);
    const n1 = [10, 20, 10, 20].map((v) => (v - 15) / Math.sqrt(25 + e));
    // layout [n][c][h][w]
    close(y, [n0[0]!, n0[1]!, n1[0]!, n1[1]!, n0[2]!, n0[3]!, n1[2]!, n1[3]!], 1e-4);
    // running stats: momentum 0.1, unbiased variance (n = 4)
    close(bn.runningMean, [0.1 * 2.5, 0.1 * 15]);
    close(bn.runningVar, [0.9 + 0.1 * (5 / 3), 0.9 + 0.1 * (100 / 3)], 1e-5);
    assert.equal(bn.numBatchesTracked.item(), 1);

    // eval: running statistics, buffers untouched
    bn.eval();
    const ye = bn.forward(x);
    const rm = [0.25, 1.5],
      rv = [0.9 + 0.5 / 3, 0.9 + 10 / 3];
    const expect = [1, 2, 10, 20, 3, 4, 10, 20].map((v, i) => {
      const c = Math.floor(i / 2) % 2;
      return ((c === 0 ? 2 : 1) * (v - rm[c]!)) / Math.sqrt(rv[c]! + e) + (c === 0 ? 1 : 0);
    });
    close(ye, expect, 1e-4);
    assert.equal(bn.numBatchesTracked.item(), 1);
    assert.throws(() => bn.forward(zeros([2, 2, 3])), /4-D input/);
    bn.dispose();
  }));

test('BatchNorm: freeze() keeps running stats even in train(), no updates, affine not trainable', () =>
  tidy(() => {
    const bn = new BatchNorm2d(3);
    noGrad(() => {
      bn.runningMean.copy_(tensor([1, 2, 3]));
      bn.runningVar.copy_(tensor([4, 1, 0.25]));
    });
    bn.freeze();
    const model = new Sequential(new Conv2d(3, 3, 1), bn);
    model.train();
    assert.equal(bn.training, true);
    assert.equal(bn.frozen, true);
    assert.equal(bn.usesBatchStats, false);
    const x = tensor([[[[1, 3]], [[2, 2]], [[3, 4]]]]); // [1, 3, 1, 2]
    const y = bn.forward(x);
    close(y, [0, 2 / Math.sqrt(4 + 1e-5), 0, 0, 0, 1 / Math.sqrt(0.25 + 1e-5)], 1e-5);
    close(bn.runningMean, [1, 2, 3]);
    close(bn.runningVar, [4, 1, 0.25]);
    assert.equal(bn.numBatchesTracked.item(), 0);
    assert.equal(bn.weight!.requiresGrad, false);
    assert.equal(bn.bias!.requiresGrad, false);
    assert.equal(model.trainableParameters().length, 2, 'only the conv weight and bias train');
    assert.equal(model.parameters().length, 4);
    // batch of one works when frozen (no batch statistics needed)
    assert.deepEqual(bn.forward(x).shape, [1, 3, 1, 2]);
    bn.unfreeze();
    assert.equal(bn.usesBatchStats, true);
    assert.equal(bn.weight!.requiresGrad, true);
    model.dispose();
  }));

test('BatchNorm1d: [N, C] and [N, C, L], cumulative momentum, affine=false, error on one value per channel', () =>
  tidy(() => {
    const bn = new BatchNorm1d(2, { momentum: null, affine: false });
    assert.deepEqual([...bn.stateDict().keys()], ['running_mean', 'running_var', 'num_batches_tracked']);
    const y = bn.forward(
      tensor([
        [1, 0],
        [3, 0],
      ]),
    );
    close(y, [-1, 0, 1, 0], 1e-4);
    bn.forward(
      tensor([
        [5, 2],
        [7, 2],
      ]),
    );
    // cumulative average of batch means: (2 + 6) / 2, (0 + 2) / 2
    close(bn.runningMean, [4, 1]);
    assert.equal(bn.numBatchesTracked.item(), 2);
    assert.deepEqual(bn.forward(zeros([3, 2, 5])).shape, [3, 2, 5]);
    assert.throws(() => bn.forward(zeros([1, 2])), /more than 1 value per channel/);
    assert.throws(() => bn.forward(zeros([2, 3])), /3 channels/);
    bn.dispose();
  }));

test('ReLU, Identity, Flatten, Dropout', () =>
  tidy(() => {
    close(new ReLU().forward(tensor([-1, 0, 2])), [0, 0, 2]);
    const x = tensor([1, 2]);
    assert.equal(new Identity().forward(x), x);
    assert.deepEqual(new Flatten().forward(zeros([2, 3, 4, 5])).shape, [2, 60]);
    assert.deepEqual(new Flatten(0, 1).forward(zeros([2, 3, 4])).shape, [6, 4]);
    manualSeed(3);
    const d = new Dropout(0.5);
    const o = d.forward(ones([1000])).toArray();
    assert.ok(
      o.every((v) => v === 0 || v === 2),
      'values are 0 or 1/(1-p)',
    );
    const kept = o.filter((v) => v === 2).length;
    assert.ok(kept > 400 && kept < 600, `about half kept, got ${kept}`);
    d.eval();
    close(d.forward(ones([5])), [1, 1, 1, 1, 1]);
    assert.throws(() => new Dropout(1), /p must be in/);
  }));

test('pooling layers: values and shapes', () =>
  tidy(() => {
    const x = arange(0, 16, 1, { dtype: 'float32' }).reshape([1, 1, 4, 4]);
    close(new MaxPool2d(2).forward(x), [5, 7, 13, 15]);
    close(new AvgPool2d(2).forward(x), [2.5, 4.5, 10.5, 12.5]);
    assert.deepEqual(new MaxPool2d(3, { stride: 2, padding: 1 }).forward(zeros([2, 3, 8, 8])).shape, [2, 3, 4, 4]);
    assert.deepEqual(new MaxPool2d(3, { stride: 2, ceilMode: true }).forward(zeros([1, 1, 8, 8])).shape, [1, 1, 4, 4]);
    // avg with padding, countIncludePad=false: corner window sees only x[0][0]
    const ap = new AvgPool2d(2, { stride: 2, padding: 1, countIncludePad: false }).forward(x);
    assert.deepEqual(ap.shape, [1, 1, 3, 3]);
    close(ap.slice(2, 0, 1).slice(3, 0, 1).flatten(), [0]);
    close(new AdaptiveAvgPool2d(1).forward(x), [7.5]);
    close(new AdaptiveAvgPool2d([2, 1]).forward(x), [3.5, 11.5]);
    assert.throws(() => new MaxPool2d(2).forward(zeros([4, 4])), /\[N, C, H, W\]/);
  }));

test('Sequential: children named 0, 1, ...; dotted state names; train/eval propagate', () =>
  tidy(() => {
    manualSeed(0);
    const net = new Sequential(new Conv2d(1, 2, 3, { padding: 1 }), new BatchNorm2d(2), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(2, 4));
    assert.equal(net.length, 6);
    assert.deepEqual(
      [...net.stateDict().keys()],
      ['0.weight', '0.bias', '1.weight', '1.bias', '5.weight', '5.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked'],
    );
    assert.deepEqual(
      net.namedChildren().map(([n]) => n),
      ['0', '1', '2', '3', '4', '5'],
    );
    assert.ok(net.at(-1) instanceof Linear);
    assert.deepEqual(net.forward(zeros([3, 1, 5, 5]).add(tensor([1]))).shape, [3, 4]);
    net.eval();
    assert.ok(net.namedModules().every(([, m]) => !m.training));
    net.train();
    assert.ok([...net].every((m) => m.training));
    // loadStateDict round trip into a fresh copy
    const other = new Sequential(
      new Conv2d(1, 2, 3, { padding: 1 }),
      new BatchNorm2d(2),
      new ReLU(),
      new AdaptiveAvgPool2d(1),
      new Flatten(),
      new Linear(2, 4),
    );
    other.loadStateDict(net.stateDict());
    const xin = arange(0, 75, 1, { dtype: 'float32' }).reshape([3, 1, 5, 5]).div(10);
    net.eval();
    other.eval();
    close(other.forward(xin), net.forward(xin).toArray(), 1e-6);
    assert.throws(() => new Sequential({} as Module), /expected a Module/);
    net.dispose();
    other.dispose();
  }));

test('init helpers: gains, fans, bounds and spreads', () =>
  tidy(() => {
    manualSeed(42);
    assert.equal(calculateGain('relu'), Math.SQRT2);
    assert.equal(calculateGain('tanh'), 5 / 3);
    assert.ok(Math.abs(calculateGain('leaky_relu', Math.sqrt(5)) - Math.sqrt(1 / 3)) < 1e-12);
    assert.deepEqual(calculateFanInAndFanOut(zeros([8, 4, 3, 3])), { fanIn: 36, fanOut: 72 });
    assert.throws(() => calculateFanInAndFanOut(zeros([5])), /at least 2 dimensions/);

    const w = zeros([200, 300]);
    xavierUniform(w);
    const a = Math.sqrt(6 / 500);
    assert.ok(w.abs().max().item() <= a + 1e-7 && w.abs().max().item() > 0.95 * a);
    assert.equal(glorotUniform, xavierUniform);
    heNormal(w);
    assert.ok(Math.abs(w.std().item() - Math.sqrt(2 / 300)) < 0.02 * Math.sqrt(2 / 300));
    heNormal(w, { truncated: true });
    const s = Math.sqrt(2 / 300) / 0.87962566103423978;
    assert.ok(w.abs().max().item() <= 2 * s + 1e-6, 'truncated at 2 std');
    assert.ok(Math.abs(w.std().item() - Math.sqrt(2 / 300)) < 0.02 * Math.sqrt(2 / 300));
    kaimingUniform(w, { nonlinearity: 'relu', mode: 'fanOut' });
    const b = Math.sqrt(6 / 200);
    assert.ok(w.abs().max().item() <= b + 1e-7 && w.abs().max().item() > 0.95 * b);
    kaimingNormal(w);
    assert.ok(Math.abs(w.std().item() - Math.sqrt(2 / 300)) < 0.02 * Math.sqrt(2 / 300));
    const d = zeros([1000], { dtype: 'float64' });
    truncNormal_(d, 1, 1, 0, 2);
    assert.equal(d.dtype, 'float64');
    assert.ok(d.min().item() >= 0 && d.max().item() <= 2);
    // init does not record autograd and keeps requiresGrad
    const p = zeros([3, 3]).requireGrad();
    xavierUniform(p);
    assert.equal(p.requiresGrad, true);
    assert.equal(p.isLeaf, true);
  }));

test('Module.to: moves parameters and buffers in place (same Tensor objects), reports the device', () => {
  const m = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
  const before = [...m.stateDict().values()];
  assert.equal(m.device, 'cpu');
  assert.equal(m.to('cpu'), m);
  const after = [...m.stateDict().values()];
  assert.ok(
    before.every((t, i) => t === after[i] && t.device === 'cpu'),
    'the same tensors, on the cpu',
  );
  assert.equal(new ReLU().device, 'cpu', 'a module without tensors is on the cpu');
});

test('Module.toMemoryFormat: 4-D weights to channels_last and back in place; other tensors, values and outputs unchanged', () => {
  manualSeed(3);
  const m = new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU());
  m.eval();
  const x = tidy(() => keep(randn([2, 3, 5, 5])));
  const before = new Map([...m.stateDict()].map(([k, t]) => [k, { t, values: t.toFloat32Array() }]));
  const y0 = tidy(() => noGrad(() => m.forward(x).toFloat32Array()));
  const formats = () => Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, t.memoryFormat]));
  assert.equal(m.toMemoryFormat('channels_last'), m);
  assert.equal(formats()['0.weight'], 'channels_last');
  assert.ok(
    [...m.stateDict()].every(([k, t]) => t === before.get(k)!.t && (k === '0.weight' || t.memoryFormat === 'contiguous')),
    'the same Tensor objects; only the 4-D conv weight changes layout',
  );
  assert.deepEqual(m.stateDict().get('0.weight')!.toFloat32Array(), before.get('0.weight')!.values);
  const y1 = tidy(() => noGrad(() => m.forward(x.toChannelsLast()).toFloat32Array()));
  assert.ok(
    y1.every((v, i) => Math.abs(v - y0[i]!) < 1e-5),
    'the same outputs (to float32 rounding)',
  );
  m.toMemoryFormat('contiguous');
  assert.equal(formats()['0.weight'], 'contiguous');
  x.dispose();
  // A 1-channel conv's weight is valid in both layouts: it still goes to NHWC strides and back.
  const one = new Conv2d(1, 4, 3);
  const w = one.weight.toFloat32Array();
  assert.equal(one.toMemoryFormat('channels_last').weight.memoryFormat, 'channels_last');
  assert.equal(one.toMemoryFormat('contiguous').weight.memoryFormat, 'contiguous');
  assert.deepEqual(one.weight.toFloat32Array(), w);
});
