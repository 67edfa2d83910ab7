// Embeddings equal PyTorch's on fixed inputs: weights written by scripts/fixtures/models_reference.py
// (random init + randomised BatchNorm statistics), loaded with loadPretrained, compared in eval mode.
// ResNet-50 and BN-Inception are checked at 1/8 width (same layout and names; full weights would be ~100 MB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, noGrad, type Tensor } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/engine/serialization/index.js';
import { MlpEmbedder, SmallCnn, SmallResNet, ResNet50, BNInception, loadPretrained, type EmbeddingNet } from '../../src/models/index.js';
import { assertClose } from '../helpers/tensors.js';
import { fixture } from './fixtures.js';

function io(name: string): { input: Tensor; output: Tensor; config: Record<string, unknown> } {
  const f = loadSafetensors(fixture(`ref_${name}_io.safetensors`));
  const config = JSON.parse(f.metadata.config ?? '{}') as Record<string, unknown>;
  assert.match(f.metadata.produced_by ?? '', /models_reference\.py/);
  return { input: f.get('input')!, output: f.get('output')!, config };
}

function check(name: string, model: EmbeddingNet, expected: Tensor, input: Tensor): void {
  model.eval();
  const y = noGrad(() => model.forward(input));
  assertClose(y, expected, { atol: 1e-4, rtol: 1e-4, msg: name });
  // and the values are not trivially small: a wrong layer would show
  assert.ok(expected.abs().max().item() > 0.1, `${name}: reference output has signal`);
}

test('MlpEmbedder, SmallCnn, SmallResNet match PyTorch (identity mapping, strict)', () =>
  tidy(() => {
    const notes: string[] = [];
    const log = (l: string): void => void notes.push(l);
    {
      const { input, output, config } = io('mlp');
      const m = new MlpEmbedder(config as { inputDim: number });
      const rep = loadPretrained(m, fixture('ref_mlp.safetensors'), { log });
      assert.equal(rep.loaded.length, m.stateDict().size);
      check('mlp', m, output, input);
    }
    {
      const { input, output, config } = io('small_cnn');
      const m = new SmallCnn(config);
      loadPretrained(m, fixture('ref_small_cnn.safetensors'), { log });
      check('small_cnn', m, output, input);
    }
    {
      const { input, output, config } = io('small_resnet');
      const m = new SmallResNet(config);
      loadPretrained(m, fixture('ref_small_resnet.safetensors'), { log });
      check('small_resnet', m, output, input);
      // the randomised BN statistics really are in use: fresh statistics change the output
      const fresh = new SmallResNet(config);
      loadPretrained(fresh, fixture('ref_small_resnet.safetensors'), { log, mapping: (n) => (n.includes('running_') ? null : n), strict: false });
      const y = noGrad(() => fresh.eval().forward(input));
      assert.ok(y.sub(output).abs().max().item() > 1e-3, 'running statistics matter');
    }
    assert.ok(
      notes.every((n) => !/ignored/.test(n) || /running_/.test(n)),
      notes.join('\n'),
    );
  }));

test('ResNet-50 layout (1/8 width) matches PyTorch through the torchvision mapping; fc.* ignored with a note', () =>
  tidy(() => {
    const { input, output, config } = io('resnet50_w8');
    const m = new ResNet50(config);
    const notes: string[] = [];
    const rep = loadPretrained(m, fixture('ref_resnet50_w8.safetensors'), { mapping: 'torchvision', log: (l) => notes.push(l) });
    assert.deepEqual(rep.ignored, ['fc.weight', 'fc.bias']);
    assert.ok(
      notes.some((n) => /ref_resnet50_w8\.safetensors: ignored 2 tensor\(s\).*fc\.weight, fc\.bias/.test(n)),
      notes.join('\n'),
    );
    assert.ok(rep.loaded.includes('backbone.layer1.0.downsample.1.running_var'));
    assert.ok(rep.loaded.includes('backbone.bn1.num_batches_tracked'));
    assert.deepEqual(rep.missing, []);
    // the head comes from the io file through a custom mapping scoped to head.
    loadPretrained(m, fixture('ref_resnet50_w8_io.safetensors'), {
      mapping: (n) => (n === 'head_weight' ? 'head.linear.weight' : null),
      scope: 'head.',
      log: () => {},
    });
    check('resnet50_w8', m, output, input);
  }));

test('BN-Inception layout (1/8 width) matches PyTorch through the bninception-caffe mapping', () =>
  tidy(() => {
    const { input, output, config } = io('bninception_w8');
    const m = new BNInception(config);
    const rep = loadPretrained(m, fixture('ref_bninception_w8.safetensors'), { mapping: 'bninception-caffe', log: () => {} });
    assert.deepEqual(rep.ignored, ['last_linear.weight', 'last_linear.bias']);
    assert.equal(rep.loaded.length, m.backbone.stateDict().size);
    loadPretrained(m, fixture('ref_bninception_w8_io.safetensors'), {
      mapping: (n) => (n === 'head_weight' ? 'head.linear.weight' : null),
      scope: 'head.',
      log: () => {},
    });
    assert.deepEqual(input.shape, [2, 3, 67, 64]);
    check('bninception_w8', m, output, input);
  }));
