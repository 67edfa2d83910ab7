// XBM: FIFO memory of detached embeddings and labels, start step, weights, evaluation mode, state save/load.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, int64, manualSeed, randn } from '../../src/engine/index.js';
import { XBM, ContrastiveLoss, ProxyAnchorLoss } from '../../src/losses/index.js';
import { createLoss } from '../../src/miners/index.js';
import { f64, assertClose } from './helpers.js';

/** Batch k: rows (k, r) for r = 0..2, labels 10k + r. */
const batch = (k: number) => ({
  x: f64([
    [k, 0],
    [k, 1],
    [k, 2],
  ]),
  y: int64([10 * k, 10 * k + 1, 10 * k + 2]),
});

describe('XBM', () => {
  test('FIFO over batches: the oldest batch is overwritten, pointer / filled / step advance', () => {
    tidy(() => {
      const xbm = new XBM(new ContrastiveLoss(), { memoryBatches: 2 });
      assert.equal(xbm.memory(), null);
      for (const k of [1, 2, 3]) {
        const { x, y } = batch(k);
        xbm.enqueue(x, y);
      }
      assert.equal(xbm.step, 3);
      assert.equal(xbm.memorySize, 6);
      assert.equal(xbm.filled, 6);
      assert.equal(xbm.pointer, 3);
      const m = xbm.memory()!;
      // batch 3 replaced batch 1 in slots 0..2; batch 2 stays in slots 3..5
      assert.deepEqual(m.embeddings.toArray(), [3, 0, 3, 1, 3, 2, 2, 0, 2, 1, 2, 2]);
      assert.deepEqual(m.labels.toArray(), [30, 31, 32, 20, 21, 22]);
    });
  });

  test('memorySize in samples wraps inside a batch; only written slots are used before it is full', () => {
    tidy(() => {
      const xbm = new XBM(new ContrastiveLoss(), { memorySize: 4 });
      xbm.enqueue(batch(1).x, batch(1).y);
      assert.deepEqual(xbm.memory()!.labels.toArray(), [10, 11, 12]);
      xbm.enqueue(batch(2).x, batch(2).y);
      assert.equal(xbm.pointer, 2);
      assert.deepEqual(xbm.memory()!.labels.toArray(), [21, 22, 12, 20]);
    });
  });

  test('memory holds detached copies', () => {
    tidy(() => {
      const xbm = new XBM(new ContrastiveLoss(), { memoryBatches: 1 });
      const x = f64([[1, 2]]).requireGrad();
      xbm.enqueue(x.mul(2), int64([0]));
      const m = xbm.memory()!;
      assert.equal(m.embeddings.requiresGrad, false);
      assert.deepEqual(m.embeddings.toArray(), [2, 4]);
    });
  });

  test('start step: default 1000 + M; the memory term joins from the start step on (current batch included)', () => {
    tidy(() => {
      assert.equal(new XBM(new ContrastiveLoss(), { memoryBatches: 25 }).startStep, 1025);
      const bySize = new XBM(new ContrastiveLoss(), { memorySize: 10 });
      assert.equal(bySize.startStep, undefined, 'unknown until the batch size is known');
      bySize.enqueue(batch(1).x, batch(1).y);
      assert.equal(bySize.startStep, 1004, '1000 + ceil(10 / 3)');
      manualSeed(21);
      const base = new ContrastiveLoss({ posMargin: 0.05, negMargin: 1.2 });
      const xbm = new XBM(base, { memoryBatches: 2, startStep: 3, weight: 0.5 });
      const batches = [0, 1, 2, 3].map(() => ({ x: randn([4, 3], { dtype: 'float64' }), y: int64([0, 0, 1, 2]) }));
      for (let i = 0; i < 4; i++) {
        const { x, y } = batches[i]!;
        const got = xbm.forward(x, y).item();
        const inBatch = base.forward(x, y).item();
        if (i < 2) {
          assert.equal(xbm.active, false, `step ${i + 1} before the start`);
          assertClose(got, inBatch, `step ${i + 1}: batch term only`, 1e-12);
        } else {
          assert.equal(xbm.active, true, `step ${i + 1} from the start`);
          // memory = the last two batches, the current one included
          const memX = f64([...batches[i - 1]!.x.toArray(), ...batches[i]!.x.toArray()], [8, 3]);
          const memY = int64([...batches[i - 1]!.y.toArray(), ...batches[i]!.y.toArray()]);
          const expected = inBatch + 0.5 * base.forward(x, y, { embeddings: memX, labels: memY }).item();
          assertClose(got, expected, `step ${i + 1}: batch + 0.5 memory`, 1e-12);
        }
      }
    });
  });

  test('gradient flows only through the batch side; pairLossWeight scales the batch term', () => {
    tidy(() => {
      const base = new ContrastiveLoss({ negMargin: 3 });
      const xbm = new XBM(base, { memoryBatches: 1, startStep: 1, pairLossWeight: 0, weight: 1 });
      const x = f64([
        [0.1, 0.2],
        [0.3, -0.1],
      ]).requireGrad();
      const loss = xbm.forward(x, int64([0, 1]));
      // memory = x itself (detached): the loss is base(x vs mem) only
      assertClose(loss.item(), base.forward(x.detach(), int64([0, 1]), { embeddings: x.detach(), labels: int64([0, 1]) }).item(), 'value', 1e-12);
      loss.backward();
      assert.ok(x.grad!.abs().sum().item() > 0);
    });
  });

  test('training = false: no writes, no step', () => {
    tidy(() => {
      const xbm = new XBM(new ContrastiveLoss(), { memoryBatches: 2 });
      xbm.training = false;
      xbm.forward(batch(1).x, batch(1).y);
      assert.equal(xbm.step, 0);
      assert.equal(xbm.memory(), null);
    });
  });

  test('state save / load restores memory, pointer and step; forward values match afterwards', () => {
    tidy(() => {
      manualSeed(22);
      const mk = () => new XBM(new ContrastiveLoss({ negMargin: 1 }), { memoryBatches: 3, startStep: 2 });
      const a = mk();
      for (let i = 0; i < 4; i++) a.forward(randn([4, 3]), int64([0, 1, 0, 1]));
      const state = a.stateDict();
      assert.deepEqual(Object.keys(state).sort(), ['xbm.embeddings', 'xbm.labels', 'xbm.meta']);
      const b = mk();
      b.loadStateDict(state);
      assert.equal(b.step, 4);
      assert.equal(b.pointer, a.pointer);
      assert.equal(b.filled, 12);
      const x = randn([4, 3]);
      const y = int64([1, 1, 0, 0]);
      assertClose(b.forward(x, y), a.forward(x, y), 'same value after restore', 1e-6);
      assert.deepEqual(b.memory()!.labels.toArray(), a.memory()!.labels.toArray());
      a.reset();
      assert.equal(a.step, 0);
      assert.equal(a.memory(), null);
      assert.throws(() => b.loadStateDict({ 'xbm.meta': int64([0, 0, 0, 0, 0]) }), /needs 'xbm.embeddings', 'xbm.labels' and 'xbm.meta'/);
    });
  });

  test('presets, registry and errors', () => {
    tidy(() => {
      assert.equal(XBM.preset('sop', new ContrastiveLoss()).memoryBatches, 1400);
      assert.equal(XBM.preset('cub', new ContrastiveLoss()).startStep, 1003);
      const x = createLoss('xbm/contrastive', { preset: 'inshop' }) as XBM;
      assert.equal(x.name, 'xbm/contrastive');
      assert.equal(x.memoryBatches, 400);
      assert.equal((x.base as ContrastiveLoss).posMargin, 0.2858);
      const y = createLoss('xbm/triplet', { margin: 0.1, xbm: { memorySize: 64, startStep: 0 } }) as XBM;
      assert.equal(y.memorySize, 64);
      assert.throws(() => new XBM(new ContrastiveLoss(), {}), /exactly one of memoryBatches and memorySize/);
      assert.throws(
        () => new XBM(new ProxyAnchorLoss({ numClasses: 2, embeddingDim: 2 }), { memoryBatches: 1 }),
        /base loss 'proxy_anchor' does not compare with a reference set/,
      );
    });
  });
});
