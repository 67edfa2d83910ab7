// Folding a BatchNorm that uses running statistics into the convolution before it (convBatchNorm, Sequential):
// the folded convolution gives the two layers' output and gradients to float32 rounding, for every kind of
// conv and BN; a BN that uses batch statistics is never folded; layouts and errors. (Layers hold float32
// weights, so the comparison is in float32 with tolerances a few hundred times its epsilon.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, noGrad, manualSeed, replaceData, inferenceMode, liveTensors, tensorStamp, type Tensor } from '../../src/engine/index.js';
import { Conv2d, BatchNorm2d, Sequential, ReLU, convBatchNorm, foldedConvParams, foldsIntoConv } from '../../src/engine/nn/index.js';
import { rand64, assertClose } from '../helpers/tensors.js';

const rand32 = (shape: number[], o: Parameters<typeof rand64>[1] = {}): Tensor => tidy(() => rand64(shape, o).to('float32'));
const TOL = { atol: 2e-5, rtol: 2e-5 };

/** A conv + BN pair with non-trivial running statistics and affine parameters. */
function pair(o: { bias: boolean; affine: boolean; stride?: number; groups?: number; k?: number; eps?: number }): { conv: Conv2d; bn: BatchNorm2d } {
  manualSeed(3);
  const k = o.k ?? 3;
  const conv = new Conv2d(4, 6, k, { bias: o.bias, stride: o.stride ?? 1, padding: k >> 1, groups: o.groups ?? 1 });
  const bn = new BatchNorm2d(6, { affine: o.affine, eps: o.eps ?? 1e-5 });
  noGrad(() => {
    for (const [, t] of [...conv.stateDict(), ...bn.stateDict()]) {
      if (t.dtype !== 'float32') continue;
      const v = rand32(t.shape, { low: -1, high: 1 });
      replaceData(t, v);
      v.dispose();
    }
    const variance = rand32([6], { low: 0.2, high: 3 });
    bn.runningVar.copy_(variance);
    variance.dispose();
  });
  return { conv, bn };
}

/** Output and the gradients of sum(out * w) with respect to the input and every trainable tensor. */
function run(forward: (x: Tensor) => Tensor, x: Tensor, params: Tensor[], weights: Tensor): number[][] {
  for (const p of params) p.zeroGrad();
  x.zeroGrad();
  return tidy(() => {
    const out = forward(x);
    out.mul(weights).sum().backward();
    return [out.toArray() as number[], x.grad!.toArray() as number[], ...params.map((p) => p.grad!.toArray() as number[])];
  });
}

const KINDS = [
  { name: 'no conv bias, affine BN (ResNet)', bias: false, affine: true },
  { name: 'conv bias, affine BN (BN-Inception)', bias: true, affine: true },
  { name: 'conv bias, BN without affine', bias: true, affine: false },
  { name: 'stride 2, groups 2, eps 1e-3', bias: false, affine: true, stride: 2, groups: 2, eps: 1e-3 },
  { name: '1x1 conv', bias: true, affine: true, k: 1 },
];

for (const kind of KINDS) {
  for (const mode of ['frozen in train()', 'eval()'] as const) {
    test(`convBatchNorm: folded = conv then BN, values and gradients (${kind.name}, ${mode})`, () => {
      const { conv, bn } = pair(kind);
      if (mode === 'frozen in train()') bn.freeze();
      else bn.eval();
      assert.equal(foldsIntoConv(bn), true);
      const x = rand32([2, 4, 7, 7]);
      x.requiresGrad = true;
      const params = [...conv.trainableParameters(), ...bn.trainableParameters()];
      // eval() keeps the BN affine trainable: the fold must pass its gradients too.
      assert.equal(params.length, (kind.bias ? 2 : 1) + (mode === 'eval()' && kind.affine ? 2 : 0));
      const weights = tidy(() => rand32(conv.forward(x).shape, { seed: 11 }));
      const folded = run((v) => convBatchNorm(conv, bn, v), x, params, weights);
      const plain = run((v) => bn.forward(conv.forward(v)), x, params, weights);
      assert.equal(folded.length, plain.length);
      folded.forEach((f, i) => assertClose(f, plain[i]!, { ...TOL, msg: i === 0 ? 'output' : `gradient ${i}` }));
      // Neither path may touch the running statistics.
      assert.equal(bn.numBatchesTracked.item(), 0);
    });
  }
}

test('convBatchNorm: a BN that uses batch statistics runs as written and updates its running statistics', () => {
  const { conv, bn } = pair({ bias: false, affine: true });
  bn.train();
  assert.equal(foldsIntoConv(bn), false);
  const x = rand32([3, 4, 5, 5]);
  const before = bn.runningMean.toArray() as number[];
  const out = convBatchNorm(conv, bn, x);
  assert.equal(bn.numBatchesTracked.item(), 1);
  assert.notDeepEqual(bn.runningMean.toArray(), before);
  // Batch statistics: every output channel has mean beta over the batch.
  const means = tidy(() => out.mean([0, 2, 3]).toArray() as number[]);
  assertClose(means, bn.bias!.toArray() as number[], { atol: 1e-5 });
  out.dispose();
});

test('convBatchNorm: foldIntoConv = false runs the two layers (same values)', () => {
  const { conv, bn } = pair({ bias: true, affine: true });
  bn.freeze();
  const x = rand32([2, 4, 6, 6]);
  const folded = tidy(() => convBatchNorm(conv, bn, x).toArray() as number[]);
  bn.foldIntoConv = false;
  assert.equal(foldsIntoConv(bn), false);
  const plain = tidy(() => convBatchNorm(conv, bn, x).toArray() as number[]);
  assertClose(folded, plain, TOL);
});

test('foldedConvParams: the hand formula on a 1x1 conv; channels_last weights stay channels_last', () => {
  const { conv, bn } = pair({ bias: true, affine: true, k: 1 });
  bn.freeze();
  tidy(() => {
    const { weight, bias } = foldedConvParams(conv, bn);
    const w = conv.weight.toArray(); // [6, 4, 1, 1] flat: o * 4 + i
    const [b, g, beta, mu, v] = [conv.bias!, bn.weight!, bn.bias!, bn.runningMean, bn.runningVar].map((t) => t.toArray() as number[]);
    const fw = weight.toArray();
    const fb = bias.toArray() as number[];
    for (let o = 0; o < 6; o++) {
      const s = g![o]! / Math.sqrt(v![o]! + 1e-5);
      assert.ok(Math.abs(fb[o]! - ((b![o]! - mu![o]!) * s + beta![o]!)) < 1e-5, `bias ${o}`);
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(fw[o * 4 + i]! - w[o * 4 + i]! * s) < 1e-5, `weight ${o},${i}`);
    }
  });
  const { conv: c3, bn: b3 } = pair({ bias: false, affine: true });
  b3.freeze();
  noGrad(() => {
    const cl = c3.weight.toChannelsLast();
    replaceData(c3.weight, cl);
    cl.dispose();
  });
  assert.equal(c3.weight.memoryFormat, 'channels_last');
  tidy(() => {
    assert.equal(foldedConvParams(c3, b3).weight.memoryFormat, 'channels_last');
    const out = convBatchNorm(c3, b3, rand32([2, 4, 6, 6]).toChannelsLast());
    assert.equal(out.memoryFormat, 'channels_last');
  });
});

test('Sequential: Conv2d then BatchNorm2d runs folded when the BN is frozen, as written otherwise', () => {
  const { conv, bn } = pair({ bias: false, affine: true });
  const net = new Sequential(conv, bn, new ReLU());
  const x = rand32([2, 4, 6, 6]);
  const byHand = () => tidy(() => bn.forward(conv.forward(x)).relu().toArray() as number[]);
  bn.freeze();
  const expected = byHand();
  assertClose(
    tidy(() => net.forward(x).toArray() as number[]),
    expected,
    TOL,
  );
  // Training BN: the Sequential updates the running statistics once, as the two layers would.
  bn.unfreeze();
  net.train();
  tidy(() => net.forward(x));
  assert.equal(bn.numBatchesTracked.item(), 1);
});

test('convBatchNorm: a BN of another width is refused with both layers named', () => {
  const conv = new Conv2d(4, 6, 3);
  const bn = new BatchNorm2d(5).freeze();
  assert.throws(() => tidy(() => convBatchNorm(conv, bn, rand32([1, 4, 5, 5]))), /BatchNorm2d\(5\) cannot follow Conv2d\(4, 6\)/);
  assert.throws(() => tidy(() => convBatchNorm(conv, bn, rand32([1, 3, 5, 5]))), /Conv2d\(4, 6\): expected input \[N, 4, H, W\]/);
});

test('tensorStamp: changes with an in-place op and with set_data, not with a read; null for an inference tensor', () => {
  const t = rand32([3]);
  const first = tensorStamp(t);
  assert.equal(typeof first, 'string');
  tidy(() => t.mul(2).sum().item());
  assert.equal(tensorStamp(t), first);
  noGrad(() => t.add_(1));
  const afterAdd = tensorStamp(t);
  assert.notEqual(afterAdd, first);
  const other = rand32([3]);
  replaceData(t, other);
  assert.notEqual(tensorStamp(t), afterAdd);
  assert.equal(
    inferenceMode(() => tidy(() => tensorStamp(t.mul(1)))),
    null,
  );
  for (const v of [t, other]) v.dispose();
});

test('convBatchNorm in inference mode: the fold is kept while its sources are unchanged, redone when one changes', () => {
  const { conv, bn } = pair({ bias: true, affine: true });
  bn.eval();
  const x = rand32([2, 4, 7, 7]);
  // The reference: the fold computed afresh (grad mode never reuses it).
  const fresh = () => noGrad(() => tidy(() => convBatchNorm(conv, bn, x).toArray() as number[]));
  const kept = () => inferenceMode(() => tidy(() => convBatchNorm(conv, bn, x).toArray() as number[]));
  assertClose(kept(), fresh(), TOL);
  const live = liveTensors();
  assertClose(kept(), fresh(), TOL);
  assert.equal(liveTensors(), live, 'a second call reuses the kept fold instead of keeping another');
  const changes: [string, () => void][] = [
    ['an in-place update of the conv weight (an optimizer step)', () => noGrad(() => conv.weight.mul_(1.5))],
    [
      'new running statistics (a forward in batch-statistics mode)',
      () => {
        bn.train();
        tidy(() => void bn.forward(rand32([4, 6, 3, 3], { low: 2, high: 5 })));
        bn.eval();
      },
    ],
    [
      'set_data on the BN weight (a loaded checkpoint, a device move)',
      () => {
        const w = rand32([6], { low: 0.5, high: 2 });
        replaceData(bn.weight!, w);
        w.dispose();
      },
    ],
    [
      'copy_ into the conv bias',
      () =>
        noGrad(() =>
          tidy(() => {
            conv.bias!.copy_(rand32([6]));
          }),
        ),
    ],
  ];
  for (const [what, change] of changes) {
    const before = kept();
    change();
    const after = kept();
    assertClose(after, fresh(), { ...TOL, msg: `after ${what}` });
    assert.ok(
      after.some((v, i) => Math.abs(v - before[i]!) > 1e-3),
      `the output moved after ${what}`,
    );
    assert.equal(liveTensors(), live, `the old kept fold is freed after ${what}`);
  }
  x.dispose();
});
