// User callbacks through train(config, { callbacks }): called in order at the documented points (after the
// trainer's own), able to stop training, and their checkpoint state survives an interruption and a resume.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, tidy, keep, type Tensor } from '../../src/engine/index.js';
import { parseRunConfig, type RunConfigInput } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData, type RunData } from '../../src/training/data-setup.js';
import type { TrainCallback, StepContext } from '../../src/training/hooks/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('callbacks');

function config(over: Partial<RunConfigInput> = {}) {
  return parseRunConfig({
    name: 'callbacks',
    seed: 4,
    outputDir: tmp,
    dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 40 },
    model: { name: 'small_cnn', embeddingDim: 8, options: { channels: [4, 8] } },
    loss: { name: 'contrastive' },
    optimizer: { lr: 2e-3, clipNorm: 0.05 },
    training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 3, maxEpochs: 4, earlyStopPatience: 10, evalBatchSize: 128 },
    ...over,
  });
}

let shared: RunData | null = null;
const data = async () => (shared ??= await prepareData(config().dataset, 4));

/** Total L2 norm of the network's gradients. */
function gradNorm(ctx: StepContext): number {
  return tidy(() => {
    let sq = 0;
    for (const p of ctx.model.parameters()) if (p.grad) sq += p.grad.norm().item() ** 2;
    return Math.sqrt(sq);
  });
}

/** Records every event as `<name>:<event>[:<epoch>]`. */
function recorder(name: string, events: string[], norms?: { after: number[]; before: number[] }): TrainCallback {
  const at = (e: string, epoch?: number): void => void events.push(`${name}:${e}${epoch === undefined ? '' : `:${epoch}`}`);
  return {
    name,
    onTrainBegin: (ctx) => at('trainBegin', ctx.epoch),
    onEpochBegin: (ctx) => at('epochBegin', ctx.epoch),
    afterBackward: (ctx) => {
      at('afterBackward');
      norms?.after.push(gradNorm(ctx));
    },
    beforeOptimizerStep: (ctx) => {
      at('beforeOptimizerStep');
      norms?.before.push(gradNorm(ctx));
    },
    onStepEnd: (ctx) => at(`stepEnd:${ctx.stepInEpoch}`),
    onValidation: (ctx) => at('validation', ctx.epoch),
    onEpochEnd: (ctx) => {
      at('epochEnd', ctx.record.epoch);
      // The trainer's own callbacks ran first: the metrics log already holds this epoch's line.
      const logged = readFileSync(join(ctx.runDir, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"kind":"epoch"'));
      assert.equal(logged.length, ctx.record.epoch);
    },
    onTrainEnd: (ctx) => at(`trainEnd:${ctx.result.stopReason}:${ctx.test ? 'tested' : 'untested'}`),
    close: () => at('close'),
  };
}

test('user callbacks run in order at every event, after the trainer own; the gradient pipeline sits between afterBackward and beforeOptimizerStep', {
  timeout: 300_000,
}, async () => {
  const events: string[] = [];
  const norms = { after: [] as number[], before: [] as number[] };
  const cfg = config({ training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 3, maxEpochs: 2, earlyStopPatience: 10, evalBatchSize: 128 } });
  const r = await train(cfg, { runDir: join(tmp, 'order'), quiet: true, data: await data(), callbacks: [recorder('a', events, norms), recorder('b', events)] });
  assert.equal(r.stopReason, 'max-epochs');
  const epoch = (e: number) => [
    `epochBegin:${e}`,
    ...[1, 2, 3].flatMap((s) => ['afterBackward', 'beforeOptimizerStep', `stepEnd:${s}`]),
    `validation:${e}`,
    `epochEnd:${e}`,
  ];
  const expected = ['trainBegin:0', ...epoch(1), ...epoch(2), 'trainEnd:max-epochs:tested', 'close'].flatMap((e) => [`a:${e}`, `b:${e}`]);
  assert.deepEqual(events, expected);
  // clipNorm 0.05: raw gradients after backward are larger; what the optimiser gets is clipped.
  assert.equal(norms.after.length, 6);
  assert.ok(
    norms.after.some((n) => n > 0.06),
    `raw norms ${norms.after}`,
  );
  for (const n of norms.before) assert.ok(n <= 0.05 * (1 + 1e-4), `clipped norm ${n}`);
});

test('a callback stops training: stopReason callback, the checkpoint written, the test evaluated', { timeout: 300_000 }, async () => {
  const stopper: TrainCallback = {
    name: 'stopper',
    onEpochEnd: (ctx) => {
      if (ctx.record.epoch === 2) ctx.stop('enough');
    },
  };
  const runDir = join(tmp, 'stop');
  const r = await train(config(), { runDir, quiet: true, data: await data(), callbacks: [stopper] });
  assert.equal(r.stopReason, 'callback');
  assert.equal(r.stoppedBy, 'stopper: enough');
  assert.equal(r.epochs, 2);
  assert.ok(r.test && r.test.mapAtR! > 0);
  assert.ok(existsSync(join(runDir, 'checkpoint.safetensors')));
  assert.equal(JSON.parse(readFileSync(join(runDir, 'final-metrics.json'), 'utf8')).stoppedBy, 'stopper: enough');
});

/** Counts steps and keeps a running tensor sum of the step losses: JSON state and a tensor in the checkpoint. */
class Counter implements TrainCallback {
  readonly name = 'counter';
  steps = 0;
  restored: unknown = null;
  sum: Tensor = keep(tensor([0], [1]));
  onStepEnd(ctx: { value: number }): void {
    this.steps++;
    const next = keep(tidy(() => this.sum.add(tensor([ctx.value], [1]))));
    this.sum.dispose();
    this.sum = next;
  }
  checkpointState() {
    return { state: { steps: this.steps }, tensors: [['sum', this.sum]] as [string, Tensor][] };
  }
  restoreState(saved: { state: unknown; tensors: Map<string, Tensor> }): void {
    this.restored = saved.state;
    this.steps = (saved.state as { steps: number }).steps;
    this.sum.dispose();
    this.sum = keep(saved.tensors.get('sum')!.clone());
  }
}

test('a callback state survives checkpoint and resume; a state no callback takes is reported', { timeout: 300_000 }, async () => {
  const d = await data();
  const straight = new Counter();
  const s = await train(config(), { runDir: join(tmp, 'straight'), quiet: true, data: d, callbacks: [straight] });
  assert.equal(straight.steps, 12);

  const runDir = join(tmp, 'resumed');
  const first = new Counter();
  const r1 = await train(config(), { runDir, quiet: true, data: d, callbacks: [first], stopAfterEpochs: 2 });
  assert.equal(r1.stopReason, 'interrupted');
  assert.equal(first.steps, 6);
  const second = new Counter();
  const r2 = await train(config(), { runDir, quiet: true, data: d, callbacks: [second], resume: true });
  assert.deepEqual(second.restored, { steps: 6 });
  assert.equal(second.steps, 12);
  // The resumed run's loss values equal the straight run's, so the restored tensor sum continues to the same value.
  assert.equal(second.sum.item(), straight.sum.item());
  assert.deepEqual(
    r2.history.map((h) => h.loss),
    s.history.map((h) => h.loss),
  );

  // Resumed without the callback: its saved state is reported, not silently dropped.
  const orphanDir = join(tmp, 'orphan');
  await train(config(), { runDir: orphanDir, quiet: true, data: d, callbacks: [new Counter()], stopAfterEpochs: 1 });
  const r3 = await train(config(), { runDir: orphanDir, quiet: true, data: d, resume: true });
  assert.ok(
    r3.warnings.some((w) => w.includes("callback named 'counter'")),
    r3.warnings.join('\n'),
  );
  for (const c of [straight, first, second]) c.sum.dispose();
});

test('callback names must be unique', async () => {
  const c: TrainCallback = { name: 'twice' };
  await assert.rejects(
    train(config(), { runDir: join(tmp, 'dup'), quiet: true, data: await data(), callbacks: [c, { ...c }] }),
    /two training callbacks are named 'twice'/,
  );
  assert.equal(existsSync(join(tmp, 'dup')), false);
});
