// Inference mode is a speed lever for embedding (embed, evaluation, CCP candidate pools): with channels_last
// and bf16 applied it must give exactly the embeddings noGrad gives, and training afterwards must still work
// (nothing the forward caches may be an inference tensor that autograd later refuses).
import test from 'node:test';
import assert from 'node:assert/strict';
import { randn, tidy, keep, noGrad, inferenceMode, manualSeed } from '../../src/engine/index.js';
import { createModel } from '../../src/models/index.js';

const cases = [
  { name: 'small_cnn', input: [4, 1, 32, 32], options: { embeddingDim: 16 } },
  { name: 'small_resnet', input: [4, 3, 32, 32], options: { inChannels: 3, embeddingDim: 16 } },
] as const;

for (const c of cases) {
  for (const precision of ['fp32', 'bf16'] as const) {
    test(`${c.name} (${precision}, channels_last): inferenceMode embeds exactly as noGrad, and training works after`, () => {
      manualSeed(7);
      const model = createModel(c.name, c.options).useChannelsLast().setPrecision(precision);
      const x = keep(randn([...c.input]));
      model.eval();
      const viaNoGrad = tidy(() => noGrad(() => model.forward(x).toFloat32Array()));
      const viaInference = tidy(() => inferenceMode(() => model.forward(x).toFloat32Array()));
      assert.deepEqual(Array.from(viaInference), Array.from(viaNoGrad));
      model.train();
      tidy(() => model.forward(x).square().sum().backward());
      const g = model.parameters().find((p) => p.grad !== null);
      assert.ok(g && g.grad!.isfinite().all().item(), 'a finite gradient after an inference-mode forward');
      x.dispose();
    });
  }
}
