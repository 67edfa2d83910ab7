// Memory stays flat over a long training loop: 3000 SGD steps of a 64 -> 128 -> 10 MLP on random data,
// each step inside tidy. Resident memory after warm-up (step 500) may not grow by more than 30 MB by step
// 3000, and the live-tensor count returns to its starting value.
//
// The loop yields to the event loop every 50 steps, as an async trainer does (data loading awaits): Node-API
// runs the finalizers of collected tensor wrappers from the event loop (setImmediate), and a loop that never
// yields keeps their small native shells alive; interleaved with freed tensor buffers they fragment the
// heap, and RSS then grows by roughly the output size of every op (measured: ~1 GB per 1000 steps of a
// 5 x linear loop with 2 threads). See the last test for that case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, randint, zeros, linear, crossEntropy, tidy, keep, liveTensors, manualSeed, noGrad, customOp, type Tensor } from '../../src/engine/index.js';

const STEPS = 3000;
const WARMUP = 500;
const MAX_GROWTH_MB = 30;

const tick = () => new Promise<void>((r) => setImmediate(r));

test(`memory: ${STEPS} MLP training steps inside tidy keep RSS flat`, async () => {
  manualSeed(0);
  const params: Tensor[] = [
    keep(randn([128, 64]).mul(0.1).requireGrad()),
    keep(zeros([128]).requireGrad()),
    keep(randn([10, 128]).mul(0.1).requireGrad()),
    keep(zeros([10]).requireGrad()),
  ];
  // A fixed dataset the net can fit, so the loss must fall if the updates are right.
  const X = keep(randn([256, 64]));
  const Y = keep(randint(0, 10, [256]));
  const liveBefore = liveTensors();
  let rssWarm = 0;
  const losses: number[] = [];
  const t0 = Date.now();
  for (let step = 1; step <= STEPS; step++) {
    const loss = tidy(() => {
      const idx = randint(0, 256, [32]);
      const x = X.indexSelect(0, idx);
      const y = Y.indexSelect(0, idx);
      const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
      // A custom op in the graph too, so its JS backward path is exercised every step.
      const h = linear(x, w1, b1);
      const act = customOp(
        [h],
        (a) => a.relu(),
        (g) => [g.mul(h.detach().gt(0))],
      );
      const l = crossEntropy(linear(act, w2, b2), y);
      l.backward();
      noGrad(() => {
        for (const p of params) {
          p.add_(p.grad!, -0.05);
          p.zeroGrad();
        }
      });
      return step % 100 === 0 ? l.item() : NaN;
    });
    if (!Number.isNaN(loss)) losses.push(loss);
    if (step % 50 === 0) await tick();
    if (step === WARMUP) {
      global.gc?.();
      rssWarm = process.memoryUsage().rss;
    }
  }
  global.gc?.();
  const rssEnd = process.memoryUsage().rss;
  const seconds = (Date.now() - t0) / 1000;
  const growthMB = (rssEnd - rssWarm) / 2 ** 20;
  console.log(
    `# ${STEPS} steps in ${seconds.toFixed(1)} s; RSS at step ${WARMUP}: ${(rssWarm / 2 ** 20).toFixed(1)} MB, at step ${STEPS}: ${(rssEnd / 2 ** 20).toFixed(1)} MB (growth ${growthMB.toFixed(1)} MB); loss ${losses[0]?.toFixed(3)} -> ${losses.at(-1)?.toFixed(3)}`,
  );
  assert.equal(liveTensors(), liveBefore, 'live tensors after the loop');
  assert.ok(growthMB < MAX_GROWTH_MB, `RSS grew by ${growthMB.toFixed(1)} MB between step ${WARMUP} and step ${STEPS}`);
  assert.ok(losses.at(-1)! < losses[0]! * 0.8, `loss did not fall: ${losses[0]} -> ${losses.at(-1)}`);
  for (const t of [...params, X, Y]) t.dispose();
});
