// Output shapes of every model, the registry, pooling variants and input validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, tidy, manualSeed, noGrad, tensor } from '../../src/engine/index.js';
import {
  createModel,
  MODEL_NAMES,
  MlpEmbedder,
  SmallCnn,
  SmallResNet,
  ResNet50,
  BNInception,
  EmbeddingHead,
  EmbeddingNet,
  countParameters,
} from '../../src/models/index.js';

test('MlpEmbedder: [B, ...] -> [B, D], hidden sizes, batch norm, no head bias', () =>
  tidy(() => {
    manualSeed(1);
    const m = new MlpEmbedder({ inputDim: 28 * 28, hidden: [64, 32], embeddingDim: 16, batchNorm: true });
    assert.deepEqual(m.forward(randn([5, 1, 28, 28])).shape, [5, 16]);
    assert.deepEqual(m.forward(randn([3, 784])).shape, [3, 16]);
    assert.deepEqual(
      [...m.stateDict().keys()].filter((k) => k.endsWith('weight')),
      ['backbone.1.weight', 'backbone.2.weight', 'backbone.4.weight', 'backbone.5.weight', 'head.linear.weight'],
    );
    assert.equal(m.head.linear.bias, null);
    assert.equal(m.featureDim, 32);
    assert.equal(m.embeddingDim, 16);
    const plain = new MlpEmbedder({ inputDim: 10, hidden: [], embeddingDim: 4 });
    assert.deepEqual([...plain.stateDict().keys()], ['head.linear.weight']);
    assert.throws(() => m.forward(randn([2, 1, 27, 27])), /Linear\(784, 64\)/);
    assert.throws(() => new MlpEmbedder({ inputDim: 0 }), /inputDim/);
  }));

test('SmallCnn and SmallResNet: 1 and 3 channels, 28 to 64 px', () =>
  tidy(() => {
    manualSeed(2);
    const cnn = new SmallCnn({ embeddingDim: 32 });
    assert.deepEqual(cnn.forward(randn([4, 1, 28, 28])).shape, [4, 32]);
    assert.deepEqual(cnn.features(randn([2, 1, 28, 28])).shape, [2, 128, 7, 7]);
    const cnn3 = new SmallCnn({ inChannels: 3, channels: [16, 32], pooling: 'avg+max', embeddingDim: 8 });
    assert.deepEqual(cnn3.forward(randn([2, 3, 64, 64])).shape, [2, 8]);
    const rn = new SmallResNet({ embeddingDim: 24, blocksPerStage: 2 });
    assert.deepEqual(rn.forward(randn([3, 1, 28, 28])).shape, [3, 24]);
    assert.deepEqual(rn.features(randn([1, 1, 28, 28])).shape, [1, 128, 7, 7]);
    const rn3 = new SmallResNet({ inChannels: 3, pooling: 'max' });
    assert.deepEqual(noGrad(() => rn3.forward(randn([1, 3, 64, 64]))).shape, [1, 128]);
    assert.ok(rn.stateDict().has('backbone.layer2.0.downsample.1.running_var'));
    assert.ok(!rn.stateDict().has('backbone.layer1.0.downsample.0.weight'), 'no downsample when shape is kept');
    assert.throws(() => cnn.forward(randn([2, 3, 28, 28])), /Conv2d\(1, 32\)/);
  }));

test('EmbeddingHead: avg, max and avg+max pooling, glorot-uniform init, no bias', () =>
  tidy(() => {
    manualSeed(4);
    const x = tensor([
      [
        [
          [1, 2],
          [3, 6],
        ],
        [
          [-1, -2],
          [0, 4],
        ],
      ],
    ]); // [1, 2, 2, 2]
    const expect = { avg: [3, 0.25], max: [6, 4], 'avg+max': [9, 4.25] } as const;
    for (const pooling of ['avg', 'max', 'avg+max'] as const) {
      const h = new EmbeddingHead(2, 3, { pooling });
      assert.deepEqual(h.pool(x).toArray(), expect[pooling]);
      const y = h.forward(x);
      const ref = tensor([[...expect[pooling]]]).matmul(h.linear.weight.t());
      assert.ok(y.sub(ref).abs().max().item() < 1e-6, pooling);
    }
    assert.throws(() => new EmbeddingHead(2, 3, { pooling: 'sum' as never }), /pooling must be one of/);
    const big = new EmbeddingHead(1024, 512);
    const a = Math.sqrt(6 / (1024 + 512));
    assert.ok(big.linear.weight.abs().max().item() <= a + 1e-7);
    assert.ok(big.linear.weight.abs().max().item() > 0.99 * a);
    assert.ok(Math.abs(big.linear.weight.std().item() - a / Math.sqrt(3)) < 0.01 * a, 'uniform(-a, a) std');
    assert.deepEqual([...big.stateDict().keys()], ['linear.weight']);
  }));

test('createModel: every registered name, options passed through, clear errors', () =>
  tidy(() => {
    manualSeed(5);
    assert.deepEqual([...MODEL_NAMES], ['mlp', 'small_cnn', 'small_resnet', 'resnet50', 'bninception']);
    const mlp = createModel('mlp', { inputDim: 12, hidden: [8], embeddingDim: 5 });
    assert.ok(mlp instanceof MlpEmbedder);
    assert.deepEqual(mlp.forward(randn([2, 12])).shape, [2, 5]);
    const cnn = createModel('small_cnn', { embeddingDim: 7, channels: [4, 8] });
    assert.ok(cnn instanceof SmallCnn && cnn instanceof EmbeddingNet);
    assert.deepEqual(cnn.forward(randn([2, 1, 28, 28])).shape, [2, 7]);
    const srn = createModel('small_resnet', { inChannels: 3, channels: [4, 8], embeddingDim: 6 });
    assert.ok(srn instanceof SmallResNet);
    assert.deepEqual(srn.forward(randn([2, 3, 32, 32])).shape, [2, 6]);
    const r = createModel('resnet50', { widthMultiplier: 0.125, embeddingDim: 9 });
    assert.ok(r instanceof ResNet50);
    assert.equal(r.featureDim, 256);
    assert.deepEqual(noGrad(() => r.forward(randn([1, 3, 32, 32]))).shape, [1, 9]);
    const b = createModel('bninception', { widthMultiplier: 0.125, embeddingDim: 3, pooling: 'max' });
    assert.ok(b instanceof BNInception);
    assert.deepEqual(noGrad(() => b.forward(randn([1, 3, 64, 64]))).shape, [1, 3]);
    assert.ok(b.batchNormFrozen && r.batchNormFrozen, 'big backbones freeze BN by default');
    assert.ok(!cnn.batchNormFrozen);
    assert.ok(!createModel('resnet50', { widthMultiplier: 0.125, freezeBatchNorm: false }).batchNormFrozen);
    assert.throws(() => createModel('vgg16'), /unknown model 'vgg16' \(known: mlp, small_cnn, small_resnet, resnet50, bninception\)/);
    assert.throws(() => createModel('mlp', {}), /inputDim is required/);
    assert.equal(countParameters(mlp), 12 * 8 + 8 + 8 * 5);
  }));
