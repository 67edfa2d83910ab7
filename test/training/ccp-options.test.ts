// CCP's ablation options through the trainer: the candidate pool's preprocessing (the training batches' one, the
// reference's, or the evaluation one) and `projections: false` (problems end, the proxies keep training, but they
// are never re-placed).
import test from 'node:test';
import assert from 'node:assert/strict';
import { tidy, tensor, keep, type Tensor } from '../../src/engine/index.js';
import { ImageLoader } from '../../src/data/index.js';
import { isCcpLoss } from '../../src/ccp/index.js';
import { parseRunConfig, type RunConfigInput } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData, type RunData } from '../../src/training/data-setup.js';
import { embedItems } from '../../src/training/embed.js';
import type { TrainCallback, TrainContext } from '../../src/training/hooks/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('ccp-options');

function config(ccp: Record<string, unknown>, over: Partial<RunConfigInput> = {}) {
  return parseRunConfig({
    name: 'ccp-options',
    seed: 7,
    outputDir: tmp,
    dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 30, augment: true },
    model: { name: 'small_cnn', embeddingDim: 8, options: { channels: [4, 8] } },
    loss: { name: 'ccp/contrastive' },
    ccp: { proxiesPerClass: 2, poolSize: 3, ...ccp },
    optimizer: { lr: 1e-2 },
    training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 2, maxEpochs: 1, earlyStopPatience: 10, evalBatchSize: 128 },
    ...over,
  });
}

let shared: RunData | null = null;
const data = async () => (shared ??= await prepareData(config({}).dataset, 7));

/**
 * Share of the initial proxies equal (to 1e-5) to the test-preprocessed embedding of some training image of their
 * class, measured before the first step.
 */
async function initialProxiesFromTestImages(poolPreprocessing: 'train' | 'test'): Promise<number> {
  const d = await data();
  let share = NaN;
  const probe: TrainCallback = {
    name: 'probe',
    async onTrainBegin(ctx: TrainContext) {
      if (!isCcpLoss(ctx.loss)) throw new Error('expected a CCP loss');
      const loader = new ImageLoader(d.train, { mode: 'test', transform: d.transform });
      const emb = await embedItems(ctx.model, loader, { batchSize: 128 });
      const proxies = ctx.loss.proxies;
      const labels = ctx.loss.proxyLabels;
      share = tidy(() => {
        const e = tensor(emb.data, [emb.labels.length, emb.dim]);
        const sameClass = labels.unsqueeze(1).eq(tensor(Array.from(emb.labels), [emb.labels.length]).to(labels.dtype).unsqueeze(0));
        const dist = proxies.detach().unsqueeze(1).sub(e.unsqueeze(0)).square().sum(-1).sqrt();
        const nearest = dist.where(sameClass, Infinity).min(1);
        return nearest.lt(1e-5).to(e.dtype).mean().item();
      });
    },
  };
  await train(config({ poolPreprocessing }), { runDir: `${tmp}/pool-${poolPreprocessing}`, quiet: true, data: d, callbacks: [probe] });
  return share;
}

test("poolPreprocessing 'test': every initial proxy is a test-preprocessed training image's embedding; 'train' (augmenting): none is", async () => {
  assert.equal(await initialProxiesFromTestImages('test'), 1);
  assert.ok((await initialProxiesFromTestImages('train')) < 0.25);
});

test('projections: false: problems end (t, λ_t) with proxiesReplaced false, and the proxies still train', async () => {
  const d = await data();
  let initial: Tensor | null = null;
  let moved = NaN;
  const probe: TrainCallback = {
    name: 'probe',
    onTrainBegin(ctx) {
      if (isCcpLoss(ctx.loss)) initial = keep(ctx.loss.proxies.detach().clone());
    },
    onTrainEnd(ctx) {
      const loss = ctx.loss;
      if (isCcpLoss(loss)) moved = tidy(() => loss.proxies.detach().sub(initial!).abs().max().item());
    },
  };
  // minDelta 1: only the first epoch of each problem improves (from −∞), so with patience 1 every second epoch ends one.
  const cfg = config(
    { projections: false, patience: 1 },
    { training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 2, maxEpochs: 4, earlyStopPatience: 10, evalBatchSize: 128, minDelta: 1 } },
  );
  try {
    const r = await train(cfg, { runDir: `${tmp}/no-projections`, quiet: true, data: d, callbacks: [probe] });
    assert.deepEqual(
      r.ccpProjections.map((p) => [p.epoch, p.t, p.proxiesReplaced]),
      [
        [2, 1, false],
        [4, 2, false],
      ],
    );
    assert.ok(r.ccpProjections.every((p) => p.lambda === 2e-4 && p.coveringRadius === undefined));
    assert.ok(moved > 1e-4, `the proxies did not train (max change ${moved})`);
  } finally {
    (initial as Tensor | null)?.dispose();
  }
});
