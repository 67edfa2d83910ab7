// Frozen BatchNorm (spec 4.1: non-trainable, inference mode): stays in inference mode under model.train(),
// gets no gradient, while the head and convolutions do; backbone freezing for warm-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, manualSeed, randn, noGrad, equal, allclose } from '../../src/engine/index.js';
import { BatchNorm2d } from '../../src/engine/nn/index.js';
import { SmallResNet, ResNet50, BNInception, MlpEmbedder, batchNormLayers } from '../../src/models/index.js';

test('frozen BN stays in inference mode after model.train(): running stats untouched, same output as eval', () =>
  tidy(() => {
    manualSeed(1);
    const m = new SmallResNet({ channels: [4, 8], embeddingDim: 6, freezeBatchNorm: true });
    assert.ok(m.batchNormFrozen);
    const bns = batchNormLayers(m);
    assert.equal(bns.length, 1 + 2 + 3); // stem, layer1.0 (no downsample), layer2.0 (+ downsample.1)
    // non-trivial running statistics, so batch statistics would give a different output
    noGrad(() =>
      bns.forEach((b, i) => {
        b.runningMean.fill_(0.1 * i);
        b.runningVar.fill_(1.5);
      }),
    );
    const x = randn([4, 1, 28, 28]);
    const yEval = noGrad(() => m.eval().forward(x));
    m.train();
    assert.ok(m.training && bns.every((b) => b.training && !b.usesBatchStats));
    const before = bns.map((b) => [b.runningMean.clone(), b.runningVar.clone(), b.numBatchesTracked.clone()]);
    const yTrain = m.forward(x);
    assert.ok(allclose(yTrain, yEval, 1e-6, 1e-6), 'train-mode output equals eval-mode output');
    bns.forEach((b, i) => {
      assert.ok(
        equal(b.runningMean, before[i]![0]!) && equal(b.runningVar, before[i]![1]!) && equal(b.numBatchesTracked, before[i]![2]!),
        `BN ${i} statistics unchanged`,
      );
    });
    // control: the same model unfrozen uses batch statistics in train mode and updates the running ones
    m.freezeBatchNorm(false);
    assert.ok(!m.batchNormFrozen);
    const yBatch = m.forward(x);
    assert.ok(!allclose(yBatch, yEval, 1e-3, 1e-3), 'unfrozen train mode differs');
    assert.ok(!equal(bns[0]!.runningMean, before[0]![0]!), 'unfrozen BN updates its statistics');
  }));

test('gradients reach the head and convolutions, not frozen BN parameters', () =>
  tidy(() => {
    manualSeed(2);
    const m = new ResNet50({ widthMultiplier: 0.125, embeddingDim: 8 }).train();
    const bnNames = new Set(batchNormLayers(m).flatMap((b) => [b.weight, b.bias]));
    const loss = m
      .forward(randn([2, 3, 32, 32]))
      .square()
      .sum();
    loss.backward();
    const headGrad = m.head.linear.weight.grad;
    assert.ok(headGrad && headGrad.abs().sum().item() > 0, 'head gets a gradient');
    const convGrad = m.backbone.conv1.weight.grad;
    assert.ok(convGrad && convGrad.abs().sum().item() > 0, 'first conv gets a gradient');
    let frozenChecked = 0;
    for (const [name, p] of m.namedParameters()) {
      if (bnNames.has(p)) {
        assert.equal(p.requiresGrad, false, name);
        assert.equal(p.grad, null, `${name} has no gradient`);
        frozenChecked++;
      }
    }
    assert.equal(frozenChecked, 53 * 2);
    const trainable = new Set(m.trainableParameters());
    assert.ok([...bnNames].every((p) => !trainable.has(p!)));
    assert.equal(trainable.size, m.parameters().length - 106);
  }));

test('setBackboneTrainable: warm-up with only the head training; frozen BN stays frozen after', () =>
  tidy(() => {
    manualSeed(3);
    const m = new BNInception({ widthMultiplier: 0.125, embeddingDim: 4 });
    m.setBackboneTrainable(false);
    assert.deepEqual(m.trainableParameters(), [m.head.linear.weight]);
    m.setBackboneTrainable(true);
    const bn = m.backbone
      .namedModules()
      .map(([, x]) => x)
      .filter((x) => x instanceof BatchNorm2d) as BatchNorm2d[];
    assert.ok(bn.length > 0 && bn.every((b) => b.frozen && !b.weight!.requiresGrad && !b.bias!.requiresGrad));
    const conv = m.backbone.stateDict().get('conv1_7x7_s2.weight')!;
    assert.ok(conv.requiresGrad);
    // an unfrozen MLP with batch norm: everything trains again
    const mlp = new MlpEmbedder({ inputDim: 6, hidden: [5], batchNorm: true, embeddingDim: 3 });
    mlp.setBackboneTrainable(false).setBackboneTrainable(true);
    assert.equal(mlp.trainableParameters().length, mlp.parameters().length);
    const frozenMlp = new MlpEmbedder({ inputDim: 6, hidden: [5], batchNorm: true, embeddingDim: 3, freezeBatchNorm: true });
    assert.equal(frozenMlp.trainableParameters().length, mlp.parameters().length - 2);
  }));
