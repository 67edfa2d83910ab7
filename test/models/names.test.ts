// Parameter / buffer names and shapes of the big backbones against the PyTorch layouts (torchvision ResNet-50,
// Cadene's BN-Inception port), from test/fixtures/models/*_names.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, manualSeed, noGrad, randn } from '../../src/engine/index.js';
import type { Module } from '../../src/engine/nn/index.js';
import { ResNet50, ResNet50Backbone, BNInception, BNInceptionBackbone, countParameters, batchNormParameterNames } from '../../src/models/index.js';
import { namesFixture } from './fixtures.js';

function listOf(entries: [string, { shape: number[] }][]): [string, number[]][] {
  return entries.map(([n, t]) => [n, t.shape]);
}

function compareLayout(m: Module, fx: ReturnType<typeof namesFixture>, label: string): void {
  const params = listOf(m.namedParameters());
  const buffers = listOf(m.namedBuffers());
  const want = new Set(fx.parameters.map(([n]) => n));
  const have = new Set(params.map(([n]) => n));
  const missing = [...want].filter((n) => !have.has(n));
  const extra = [...have].filter((n) => !want.has(n));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${label}: parameter names`);
  assert.deepEqual(params, fx.parameters, `${label}: parameter order and shapes`);
  assert.deepEqual(buffers, fx.buffers, `${label}: buffers`);
  assert.equal(countParameters(m), fx.parameter_count, `${label}: parameter count`);
}

test('ResNet50Backbone: torchvision names, shapes and 23,508,032 parameters (no fc)', () =>
  tidy(() => {
    manualSeed(1);
    const fx = namesFixture('resnet50_names.json');
    assert.match(fx.produced_by, /models_reference\.py/);
    assert.equal(fx.parameter_count, 23508032);
    assert.equal(fx.parameters.length, 159);
    const model = new ResNet50({ embeddingDim: 128 });
    try {
      compareLayout(model.backbone, fx, 'ResNet50Backbone');
      assert.equal(model.backbone.outChannels, fx.feature_dim);
      // the embedding model: the same names under backbone., plus the head
      const names = model.namedParameters().map(([n]) => n);
      assert.deepEqual(names, [...fx.parameters.map(([n]) => `backbone.${n}`), 'head.linear.weight']);
      assert.equal(countParameters(model), 23508032 + 2048 * 128);
      // BN parameter names for weight-decay exclusion include torchvision's downsample.1 (no 'bn' in the name)
      const bn = batchNormParameterNames(model);
      assert.ok(bn.has('backbone.layer1.0.downsample.1.weight') && bn.has('backbone.bn1.bias') && bn.has('backbone.layer4.2.bn3.weight'));
      assert.ok(!bn.has('backbone.layer1.0.downsample.0.weight') && !bn.has('head.linear.weight'));
      assert.equal(bn.size, 53 * 2);
      // one small forward of the full network: [1, 3, 64, 64] -> [1, 128], default avg+max pooling
      assert.equal(model.head.pooling, 'avg+max');
      const y = noGrad(() => model.forward(randn([1, 3, 64, 64])));
      assert.deepEqual(y.shape, [1, 128]);
      assert.ok(y.isfinite().all().item());
    } finally {
      model.dispose();
    }
  }));

test('ResNet50Backbone: reduced width keeps the names', () =>
  tidy(() => {
    const fx = namesFixture('resnet50_names.json');
    const small = new ResNet50Backbone({ widthMultiplier: 0.125 });
    assert.deepEqual(
      small.namedParameters().map(([n]) => n),
      fx.parameters.map(([n]) => n),
    );
    assert.deepEqual(small.conv1.weight.shape, [8, 3, 7, 7]);
    assert.equal(small.outChannels, 256);
  }));

test('BNInceptionBackbone: Caffe / Cadene-port names, shapes and parameter count; one small forward', () =>
  tidy(() => {
    manualSeed(2);
    const fx = namesFixture('bninception_names.json');
    assert.equal(fx.parameter_count, 10270240);
    const model = new BNInception({ embeddingDim: 128 });
    try {
      const bb = model.backbone;
      assert.ok(bb instanceof BNInceptionBackbone);
      compareLayout(bb, fx, 'BNInceptionBackbone');
      assert.equal(bb.outChannels, 1024);
      const names = bb.namedParameters().map(([n]) => n);
      for (const n of [
        'conv1_7x7_s2.weight',
        'conv1_7x7_s2.bias',
        'conv1_7x7_s2_bn.weight',
        'inception_3a_1x1.weight',
        'inception_3c_double_3x3_2_bn.bias',
        'inception_5b_pool_proj.weight',
      ]) {
        assert.ok(names.includes(n), n);
      }
      assert.ok(!names.some((n) => n.startsWith('inception_3c_1x1') || n.startsWith('inception_4e_pool_proj')), 'reduction modules have no 1x1 / pool_proj');
      // one small forward of the full network through the default head (avg pooling, D = 128)
      assert.equal(model.featureDim, 1024);
      assert.equal(model.head.pooling, 'avg');
      const y = noGrad(() => model.forward(randn([1, 3, 64, 64])));
      assert.deepEqual(y.shape, [1, 128]);
      assert.ok(y.isfinite().all().item());
      assert.throws(() => noGrad(() => model.forward(randn([1, 3, 61, 61]))), /inception_3c.*224 or 227/);
    } finally {
      model.dispose();
    }
  }));
