// Every built-in model exported to ONNX (with its pixel and embedding normalisation) gives our embeddings to
// 1e-4 in onnxruntime, on PNG images decoded and cropped by our preprocessing, at batch sizes 1 and 2.
// ResNet-50 and BN-Inception run at a quarter width on 64 px inputs (the graph is the same, only smaller).
// Embeddings are compared as the product uses them (normalised), except one case with normalisation 'none':
// random-weight BN-Inception on Caffe-scaled pixels gives raw embeddings in the hundreds, where 1e-4 is
// below float32 resolution.
import test from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import '../helpers/no-onnx-telemetry.js';
import * as ort from 'onnxruntime-node';
import { tensor, tidy, noGrad, manualSeed, randn, rand } from '../../src/engine/index.js';
import { BatchNormBase } from '../../src/engine/nn/index.js';
import { createModel, type EmbeddingNet } from '../../src/models/index.js';
import { transformPixels, normalizeToChw, type TransformOptions } from '../../src/data/index.js';
import { normalizeEmbeddings, type NormalizationMode } from '../../src/evaluation/index.js';
import { exportOnnx, ONNX_INPUT, ONNX_OUTPUT } from '../../src/export/index.js';
import { seededRandom } from '../helpers/tensors.js';

/** Running statistics and affine parameters away from the identity, so BatchNorm is really exercised. */
function randomizeBatchNorm(model: EmbeddingNet): void {
  noGrad(() =>
    tidy(() => {
      for (const [, m] of model.namedModules()) {
        if (!(m instanceof BatchNormBase)) continue;
        const c = m.numFeatures;
        m.runningMean.copy_(randn([c]).mul(0.1));
        m.runningVar.copy_(rand([c]).add(0.5));
        m.weight?.copy_(randn([c]).mul(0.1).add(1));
        m.bias?.copy_(randn([c]).mul(0.1));
      }
    }),
  );
}

async function pngs(n: number, size: number, channels: 1 | 3): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const r = seededRandom(100 + i);
    // Smooth gradients plus noise, of a size other than the model's so the resize and crop are exercised.
    const w = size + 13;
    const h = size + 5;
    const px = new Uint8Array(w * h * channels);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < channels; c++) px[(y * w + x) * channels + c] = Math.round(((x * (c + 1) + y * (3 - c)) * 255) / (w + h) / 2 + 60 * r());
    out.push(
      await sharp(Buffer.from(px), { raw: { width: w, height: h, channels } })
        .png()
        .toBuffer(),
    );
  }
  return out;
}

const CASES: { name: string; options: Record<string, unknown>; transform: TransformOptions; normalization: NormalizationMode }[] = [
  {
    name: 'mlp',
    options: { inputDim: 28 * 28, hidden: [32, 16], batchNorm: true, embeddingDim: 8 },
    transform: { size: 28, channels: 1, normalize: 'unit', resizeTo: 32 },
    normalization: 'lipschitz',
  },
  {
    name: 'small_cnn',
    options: { inChannels: 1, channels: [4, 8], embeddingDim: 8, pooling: 'avg+max' },
    transform: { size: 28, channels: 1, normalize: 'unit', resizeTo: 32 },
    normalization: 'none',
  },
  {
    name: 'small_resnet',
    options: { inChannels: 3, channels: [4, 8], embeddingDim: 8, pooling: 'max' },
    transform: { size: 32, channels: 3, normalize: 'imagenet', resizeTo: 36 },
    normalization: 'l2',
  },
  {
    name: 'resnet50',
    options: { widthMultiplier: 0.25, embeddingDim: 16 },
    transform: { size: 64, channels: 3, normalize: 'imagenet', resizeTo: 72 },
    normalization: 'lipschitz',
  },
  {
    name: 'bninception',
    options: { widthMultiplier: 0.25, embeddingDim: 16 },
    transform: { size: 64, channels: 3, normalize: 'caffe', resizeTo: 72 },
    normalization: 'lipschitz',
  },
];

for (const c of CASES) {
  test(`ONNX export of ${c.name} matches our embeddings to 1e-4`, async () => {
    manualSeed(3);
    const model = createModel(c.name, c.options);
    randomizeBatchNorm(model);
    model.eval();
    const onnx = exportOnnx(model, { transform: c.transform, normalization: c.normalization });
    const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    const size = c.transform.size as number;
    const ch = c.transform.channels as 1 | 3;
    const images = await pngs(2, size, ch);
    const pixels = await Promise.all(images.map((b) => transformPixels({ kind: 'encoded', bytes: b, where: 'test image' }, 'test', c.transform)));
    const per = ch * size * size;
    for (const batch of [1, 2]) {
      const ours = new Float32Array(batch * per);
      const raw = new Float32Array(batch * per);
      for (let i = 0; i < batch; i++) {
        normalizeToChw(pixels[i]!, c.transform.normalize, ours, i * per);
        normalizeToChw(pixels[i]!, { mean: Array(ch).fill(0), scale: 255 }, raw, i * per); // plain 0-255 CHW
      }
      const want = tidy(() => noGrad(() => normalizeEmbeddings(model.forward(tensor(ours, [batch, ch, size, size])), c.normalization).toFloat32Array()));
      const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', raw, [batch, ch, size, size]) });
      const got = out[ONNX_OUTPUT]!;
      assert.deepEqual(got.dims, [batch, model.embeddingDim]);
      const data = got.data as Float32Array;
      let worst = 0;
      for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(data[j]! - want[j]!));
      assert.ok(worst <= 1e-4, `${c.name} batch ${batch}: max |difference| ${worst}`);
      assert.ok(
        want.some((v) => Math.abs(v) > 1e-3),
        'embeddings are not trivially zero',
      );
    }
    await session.release();
  });
}
