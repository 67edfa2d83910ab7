// channels_last and bf16 are speed levers: they must not change what a model computes beyond a stated
// tolerance, nor how its weights are saved.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randn, tidy, manualSeed, tensor, type Tensor } from '../../src/engine/index.js';
import { saveModule, loadModule } from '../../src/engine/serialization/index.js';
import { createModel, SmallCnn, type EmbeddingNet } from '../../src/models/index.js';

const cases: { name: 'small_cnn' | 'small_resnet' | 'resnet50' | 'bninception'; input: number[]; options: Record<string, unknown> }[] = [
  { name: 'small_cnn', input: [4, 1, 32, 32], options: { embeddingDim: 16 } },
  { name: 'small_resnet', input: [4, 3, 32, 32], options: { inChannels: 3, embeddingDim: 16 } },
  { name: 'resnet50', input: [2, 3, 64, 64], options: { embeddingDim: 16 } },
  { name: 'bninception', input: [2, 3, 96, 96], options: { embeddingDim: 16 } },
];

function build(c: (typeof cases)[number], seed: number): EmbeddingNet {
  manualSeed(seed);
  return createModel(c.name, c.options);
}

/** Forward + backward of a fixed loss: embeddings and the gradient of every parameter, by name. */
function run(model: EmbeddingNet, x: Tensor): { emb: Float32Array; grads: Map<string, Float32Array> } {
  for (const p of model.parameters()) p.grad = null;
  const emb = model.forward(x);
  emb
    .mul(tensor([[...Array(emb.shape[1]).keys()].map((i) => Math.cos(i))]))
    .sum()
    .backward();
  const grads = new Map<string, Float32Array>();
  for (const [n, p] of model.namedParameters()) if (p.grad) grads.set(n, p.grad.toFloat32Array());
  return { emb: emb.toFloat32Array(), grads };
}

const relErr = (a: Float32Array, b: Float32Array) => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / Math.max(n, 1e-30));
};

for (const c of cases) {
  test(`${c.name}: channels_last gives float32 results equal to the standard layout; saved weights are standard`, { timeout: 300_000 }, () =>
    tidy(() => {
      const ref = build(c, 1);
      const cl = build(c, 1).useChannelsLast();
      assert.equal(cl.memoryFormat, 'channels_last');
      const conv = [...cl.stateDict().values()].filter((t) => t.shape.length === 4);
      // Every one, also those valid in both layouts (a 1-channel input conv's weight, 1x1 kernels): kernels pick
      // their layout from the strides.
      assert.ok(
        conv.length > 0 && conv.every((t) => t.memoryFormat === 'channels_last'),
        conv.map((t) => `[${t.shape.join(',')}] ${t.memoryFormat}`).join('; '),
      );
      manualSeed(2);
      const x = randn(c.input);
      const a = run(ref, x);
      const b = run(cl, x);
      assert.ok(relErr(b.emb, a.emb) < 1e-5, `embeddings: ${relErr(b.emb, a.emb)}`);
      for (const [n, g] of a.grads) assert.ok(relErr(b.grads.get(n)!, g) < 1e-4, `grad ${n}: ${relErr(b.grads.get(n)!, g)}`);
      // Round trip through safetensors into a standard-layout model: the same numbers.
      const dir = mkdtempSync(join(tmpdir(), 'ccp-exec-'));
      try {
        saveModule(join(dir, 'm.safetensors'), cl);
        const back = build(c, 9);
        loadModule(join(dir, 'm.safetensors'), back);
        for (const [n, t] of back.stateDict()) assert.deepEqual(t.toFloat32Array(), cl.stateDict().get(n)!.toFloat32Array(), n);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  // bf16 keeps 8 bits of mantissa. Stated tolerance, on random weights and inputs in training mode: embeddings
  // within 2% (relative L2) of float32, the gradient of all parameters within 20% (measured: embeddings
  // 0.3-0.6%, gradients 4-12%, the largest for ResNet-50's 53 BatchNorm layers).
  test(`${c.name}: bf16 forward and backward agree with float32 within the stated tolerance`, { timeout: 300_000 }, () =>
    tidy(() => {
      const fp32 = build(c, 3).useChannelsLast();
      const bf16 = build(c, 3).useChannelsLast().setPrecision('bf16');
      manualSeed(4);
      const x = randn(c.input);
      const a = run(fp32, x);
      const b = run(bf16, x);
      const embErr = relErr(b.emb, a.emb);
      assert.ok(embErr < 0.02 && embErr > 0, `embeddings: ${embErr} (0 would mean bf16 never ran)`);
      // All parameter gradients as one vector: bf16 rounding shows most on tiny per-layer sums (BatchNorm
      // shifts), so the tolerance is on the whole gradient, the direction the optimizer takes.
      const all = (m: Map<string, Float32Array>) => Float32Array.from([...a.grads.keys()].flatMap((n) => [...m.get(n)!]));
      const gradErr = relErr(all(b.grads), all(a.grads));
      console.log(`${c.name}: bf16 vs float32 relative L2 error: embeddings ${embErr.toFixed(4)}, gradient ${gradErr.toFixed(4)}`);
      assert.ok(gradErr < 0.2, `gradient error ${gradErr}`);
      assert.equal(b.emb.length, a.emb.length);
    }),
  );
}

// Folding frozen BatchNorm into the convolutions (model.foldBatchNorm) is a speed lever too: in training mode
// with frozen BN, and in eval mode, the same embeddings and gradients as the layers run one by one. Stated
// tolerance: embeddings within 1e-5 (relative L2), all parameters' gradient as one vector within 1e-3. The
// fold only changes float32 rounding, but rounding can flip a ReLU whose input is within it of 0, and that moves
// the gradient of the layers before it (seen here: ResNet-50's stem and first block move by 2e-3 of their own
// gradient, every later layer by 1e-6; fed the unfolded stem's output, the folded blocks agree to 1e-6 too).
for (const c of cases) {
  test(`${c.name}: frozen BatchNorm folded into the convolutions gives the unfolded results (train and eval)`, { timeout: 300_000 }, () =>
    tidy(() => {
      const folded = build(c, 5).useChannelsLast().freezeBatchNorm();
      const plain = build(c, 5).useChannelsLast().freezeBatchNorm().setBatchNormFolding(false);
      assert.equal(folded.batchNormFolding, true);
      assert.equal(plain.batchNormFolding, false);
      manualSeed(6);
      const x = randn(c.input);
      for (const mode of ['train', 'eval'] as const) {
        folded.train(mode === 'train');
        plain.train(mode === 'train');
        const a = run(plain, x);
        const b = run(folded, x);
        const embErr = relErr(b.emb, a.emb);
        assert.ok(embErr < 1e-5, `${mode} embeddings: ${embErr}`);
        assert.ok(a.grads.size > 0 && b.grads.size === a.grads.size);
        const all = (m: Map<string, Float32Array>) => Float32Array.from([...a.grads.keys()].flatMap((n) => [...m.get(n)!]));
        const gradErr = relErr(all(b.grads), all(a.grads));
        assert.ok(gradErr < 1e-3, `${mode} gradient: ${gradErr}`);
      }
    }),
  );
}

// A 1-channel input is valid as NCHW and as NHWC at once; its first convolution must still run channels_last, or
// that block (BN, ReLU, max pool) and its backward stay in NCHW and the layout flips at the second convolution
// (measured on SmallCnn, batch 32, 1x32x32: forward 23.8 -> 17.2 ms, backward 35.8 -> 30.2 ms once fixed).
test('small_cnn on 1-channel input: every block runs channels_last from the first convolution on', () =>
  tidy(() => {
    manualSeed(1);
    const model = new SmallCnn({ inChannels: 1, embeddingDim: 16 }).useChannelsLast();
    let x = randn([4, 1, 32, 32]).toChannelsLast();
    assert.equal(x.memoryFormat, 'channels_last');
    for (const [i, layer] of [...model.backbone].entries()) {
      x = layer.forward(x);
      assert.equal(x.memoryFormat, 'channels_last', `backbone.${i} output`);
    }
  }));
