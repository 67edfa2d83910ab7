// The model registry is the one list of model names, each entry with its metadata (timm-style).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, modelInfo, MODEL_NAMES } from '../../src/models/index.js';
import { ModelConfig } from '../../src/training/config.js';
import { resolveNormalization } from '../../src/data/index.js';

test('the config accepts exactly the registry’s model names', () => {
  assert.deepEqual([...ModelConfig.shape.name.unwrap().options].sort(), [...MODEL_NAMES].sort());
  assert.deepEqual([...MODEL_NAMES].sort(), ['bninception', 'mlp', 'resnet50', 'small_cnn', 'small_resnet']);
});

test('metadata: input size, the pretrained weights’ preprocessing and name mapping', () => {
  const bni = modelInfo('bninception');
  assert.deepEqual(bni.inputSize, [3, 227, 227]);
  assert.equal(bni.pretrainedMapping, 'bninception-caffe');
  // The Caffe port's preprocessing is the data layer's 'caffe' mode; torchvision's is 'imagenet'.
  assert.deepEqual(resolveNormalization({ ...bni.normalization!, mean: [...bni.normalization!.mean] }, 3), resolveNormalization('caffe', 3));
  const rn = modelInfo('resnet50');
  assert.deepEqual(rn.inputSize, [3, 224, 224]);
  assert.equal(rn.pretrainedMapping, 'torchvision');
  assert.deepEqual(resolveNormalization({ mean: [...rn.normalization!.mean], std: [...rn.normalization!.std!] }, 3), resolveNormalization('imagenet', 3));
  assert.deepEqual(modelInfo('small_cnn'), { inputSize: null, normalization: null, pretrainedMapping: 'identity' });
  assert.throws(() => modelInfo('vgg16'), /unknown model 'vgg16' \(known: mlp, small_cnn/);
  assert.throws(() => createModel('vgg16'), /unknown model 'vgg16'/);
});
