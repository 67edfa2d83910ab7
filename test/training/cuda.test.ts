// Training on a GPU (device 'cuda'): model, proxies, CCP's snapshots and pools, XBM's memory, optimiser state
// and batches on the GPU; the same start as a CPU run; checkpoints that resume on the GPU; fp16 with loss
// scaling and bf16 without it; a trained run loaded back on the GPU (the commands' --device); NCCL collectives in a
// group of one rank (one GPU) and two ranks on NCCL (two GPUs). Every test here needs a CUDA libtorch and a GPU
// and is skipped without them (the CPU build this project's CI runs has neither).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaIsAvailable, cudaDeviceCount, tensor } from '../../src/engine/index.js';
import { ProcessGroup } from '../../src/distributed/index.js';
import { parseRunConfig, type RunConfigInput } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData } from '../../src/training/data-setup.js';
import { loadRun } from '../../src/training/run-files.js';
import { RunEmbedder } from '../../src/index/embedder.js';
import { makeTinyRun } from '../helpers/tiny-run.js';
import { tempDir } from '../helpers/tmp.js';
import { tinyNprocTrainArgs } from '../distributed/spawn-ranks.js';

const tmp = tempDir('cuda');
const noCuda = cudaIsAvailable()
  ? false
  : 'CUDA is unavailable (this libtorch has no CUDA support or no GPU is visible): the GPU training path is not checked here';
const noNccl =
  noCuda || (ProcessGroup.availableBackends().includes('nccl') ? false : 'this addon was built without NCCL (a CUDA libtorch at build time brings it)');
const noTwoGpus = noNccl || (cudaDeviceCount() < 2 ? `${cudaDeviceCount()} GPU visible: the two-rank NCCL run needs 2` : false);

function config(over: Partial<RunConfigInput> = {}) {
  return parseRunConfig({
    name: 'cuda',
    seed: 5,
    outputDir: tmp,
    dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 60, maxClasses: 5 },
    model: { name: 'small_cnn', embeddingDim: 16, options: { channels: [8, 16] }, precision: 'fp32' },
    loss: { name: 'ccp/contrastive' },
    // patience 1 with minDelta 1: a CCP projection at every epoch after the first.
    ccp: { proxiesPerClass: 2, poolSize: 3, patience: 1 },
    training: { classesPerBatch: 5, samplesPerClass: 4, stepsPerEpoch: 10, maxEpochs: 3, minDelta: 1, evalBatchSize: 64 },
    ...over,
  });
}

const epochLosses = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; loss?: number })
    .filter((r) => r.kind === 'epoch')
    .map((r) => r.loss!);

test('cuda: C2-CCP trains on the GPU across projections, starts where the CPU run starts, and resumes on the GPU', {
  skip: noCuda,
  timeout: 600_000,
}, async () => {
  const gpu = config({ device: 'cuda' });
  const data = await prepareData(gpu.dataset, gpu.seed);
  const straight = await train(gpu, { runDir: join(tmp, 'gpu'), quiet: true, data });
  assert.equal(straight.execution.device, 'cuda:0');
  assert.ok(straight.ccpProjections.length >= 2, `projections happened on the GPU: ${straight.ccpProjections.length}`);
  assert.ok(straight.history.every((h) => Number.isFinite(h.loss)));
  assert.ok(straight.test && Number.isFinite(straight.test.mapAtR));

  // Same weights and proxies at the start (drawn on the CPU, then moved): the first epoch's loss agrees with a
  // CPU run to kernel rounding (CCP's first K-center runs on GPU embeddings); later epochs drift apart.
  const cpu = await train({ ...gpu, device: 'cpu', training: { ...gpu.training, maxEpochs: 1 } }, { runDir: join(tmp, 'cpu'), quiet: true, data });
  const [g0, c0] = [straight.history[0]!.loss, cpu.history[0]!.loss];
  assert.ok(Math.abs(g0 - c0) <= 1e-3 * Math.abs(c0), `first epoch loss: GPU ${g0}, CPU ${c0}`);

  // Interrupted after epoch 1 and resumed: optimizer moments, CCP's θ snapshots and proxies are restored onto the GPU.
  const dir = join(tmp, 'resumed');
  await train(gpu, { runDir: dir, quiet: true, data, stopAfterEpochs: 1 });
  const resumed = await train(gpu, { runDir: dir, quiet: true, data, resume: true });
  assert.equal(resumed.execution.device, 'cuda:0');
  assert.equal(resumed.epochs, 3);
  assert.deepEqual(
    resumed.ccpProjections.map((p) => p.epoch),
    straight.ccpProjections.map((p) => p.epoch),
  );
  const [a, b] = [epochLosses(join(tmp, 'gpu')), epochLosses(dir)];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * Math.abs(a[i]!), `epoch ${i + 1}: straight ${a[i]}, resumed ${b[i]}`);
});

test('cuda: XBM and ProxyAnchor keep their memory and proxies on the GPU', { skip: noCuda, timeout: 300_000 }, async () => {
  for (const loss of ['xbm/contrastive', 'proxy_anchor']) {
    const cfg = config({
      device: 'cuda',
      loss: { name: loss },
      training: { classesPerBatch: 5, samplesPerClass: 4, stepsPerEpoch: 6, maxEpochs: 2, evalBatchSize: 64 },
    });
    const r = await train(cfg, { runDir: join(tmp, loss.replace('/', '-')), quiet: true });
    assert.equal(r.execution.device, 'cuda:0', loss);
    assert.ok(
      r.history.every((h) => Number.isFinite(h.loss)),
      loss,
    );
  }
});

test('cuda: fp16 autocast with loss scaling trains, and the run records fp16', { skip: noCuda, timeout: 300_000 }, async () => {
  const cfg = config({ device: 'cuda', model: { name: 'small_cnn', embeddingDim: 16, options: { channels: [8, 16] }, precision: 'fp16' } });
  const r = await train(cfg, { runDir: join(tmp, 'fp16'), quiet: true });
  assert.equal(r.execution.precision, 'fp16');
  assert.ok(r.history.every((h) => Number.isFinite(h.loss)));

  // The trained run, loaded for eval/embed/index/serve (--device): on the GPU in its own fp16 and in fp32, and on
  // the CPU (its fp16 falls back to the CPU's 'auto'); the same images give the same embeddings.
  const runDir = join(tmp, 'fp16');
  const onCpu = new RunEmbedder(cfg, loadRun(runDir).model);
  const gpuFp32 = new RunEmbedder(cfg, loadRun(runDir, undefined, { device: 'cuda', precision: 'fp32' }).model);
  const gpuOwn = loadRun(runDir, undefined, { device: 'cuda' }).model;
  assert.deepEqual({ d: gpuOwn.device, p: gpuOwn.precision }, { d: 'cuda:0', p: 'fp16' });
  const pixels = Float32Array.from({ length: 4 * 28 * 28 }, (_, i) => Math.sin(i) * 0.5);
  const cpuRows = onCpu.embedPixels(pixels, 4);
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  assert.ok(maxDiff(cpuRows, gpuFp32.embedPixels(pixels, 4)) < 1e-4, 'fp32 on the GPU gives the CPU embeddings');
  assert.ok(maxDiff(cpuRows, new RunEmbedder(cfg, gpuOwn).embedPixels(pixels, 4)) < 2e-2, 'fp16 on the GPU: within fp16 rounding');
});

test('cuda: bf16 autocast trains without loss scaling, and the run records bf16', { skip: noCuda, timeout: 300_000 }, async () => {
  const cfg = config({ device: 'cuda', model: { name: 'small_cnn', embeddingDim: 16, options: { channels: [8, 16] }, precision: 'bf16' } });
  const r = await train(cfg, { runDir: join(tmp, 'bf16'), quiet: true });
  assert.equal(r.execution.precision, 'bf16');
  assert.ok(r.ccpProjections.length >= 1, `projections happened in bf16: ${r.ccpProjections.length}`);
  assert.ok(r.history.every((h) => Number.isFinite(h.loss)));
  assert.ok(r.test && Number.isFinite(r.test.mapAtR));
});

test('cuda: an NCCL group of one rank all-reduces, broadcasts and all-gathers GPU tensors', { skip: noNccl, timeout: 120_000 }, () => {
  const group = ProcessGroup.create({ rank: 0, worldSize: 1, backend: 'nccl', rendezvous: { kind: 'file', path: join(tmp, 'nccl-store') }, timeoutMs: 60_000 });
  try {
    const t = tensor([1, 2, 3, 4], [2, 2]).toDevice('cuda');
    assert.deepEqual(group.allReduce(t, 'sum').toArray(), [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(group.broadcast(t, 0).device, 'cuda:0');
    const gathered = group.allGatherCat(t);
    assert.deepEqual(gathered.shape, [2, 2]);
    assert.equal(gathered.device, 'cuda:0');
    group.barrier();
  } finally {
    group.destroy();
  }
});

test('cuda: two ranks on NCCL (one GPU each) train one run', { skip: noTwoGpus, timeout: 300_000 }, async () => {
  const { imagesDir } = await makeTinyRun(join(tmp, 'nccl'), { classes: 6, perClass: 4 });
  const main = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'dist/src/cli/main.js');
  const out = join(tmp, 'nccl', 'out');
  const r = spawnSync(process.execPath, [main, ...tinyNprocTrainArgs(imagesDir, out, 2, 2, ['--set', 'device=cuda'])], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, r.stderr);
  const exec = readFileSync(join(out, 'r', 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"kind":"execution"'));
  assert.match(exec[0]!, /"device":"cuda:0"/);
});
