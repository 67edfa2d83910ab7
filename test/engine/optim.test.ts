// Optimisers, clipping and schedules against PyTorch trajectories (test/fixtures/engine/optim.json, produced
// by scripts/fixtures/engine_optim.py), plus state save / load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { tensor, zeros, tidy, type Tensor, liveTensors, type DType } from '../../src/engine/index.js';
import {
  Adam,
  AdamW,
  SGD,
  type Optimizer,
  clipGradNorm,
  clipGradValue,
  addWeightDecayGrad,
  addProximalGrad,
  ConstantLR,
  StepLR,
  CosineAnnealingLR,
  LambdaLR,
  ReduceLROnPlateau,
  type PlateauOptions,
} from '../../src/engine/optim/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIX = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'engine', 'optim.json'), 'utf8'));

interface OptimCase {
  name: string;
  optimizer: 'Adam' | 'AdamW' | 'SGD';
  dtype: DType;
  shapes: number[][];
  steps: number;
  groups: { params: number[]; options: Record<string, unknown> }[];
  skipGrad?: Record<string, number[]>;
  initial: number[][];
  grads: number[][][];
  trajectory: number[][][];
}

function close(actual: number[], expected: number[], atol: number, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= atol)) assert.fail(`${msg}[${i}]: got ${actual[i]}, expected ${expected[i]} (atol ${atol})`);
  }
}

function makeOptimizer(c: OptimCase, params: Tensor[]): Optimizer {
  const groups = c.groups.map((g) => ({ params: g.params.map((i) => params[i]!), ...g.options }));
  if (c.optimizer === 'Adam') return new Adam(groups);
  if (c.optimizer === 'AdamW') return new AdamW(groups);
  return new SGD(groups, { lr: c.groups[0]!.options.lr as number });
}

function setGrads(c: OptimCase, params: Tensor[], step: number): void {
  const skip = c.skipGrad?.[String(step)] ?? [];
  params.forEach((p, i) => {
    p.grad = skip.includes(i) ? null : tensor(Float64Array.from(c.grads[step]![i]!), c.shapes[i], { dtype: c.dtype });
  });
}

function makeParams(c: OptimCase): Tensor[] {
  return c.initial.map((v, i) => tensor(Float64Array.from(v), c.shapes[i], { dtype: c.dtype }).requireGrad());
}

for (const c of FIX.optim as OptimCase[]) {
  test(`${c.optimizer} trajectory matches PyTorch: ${c.name}`, () =>
    tidy(() => {
      const params = makeParams(c);
      const opt = makeOptimizer(c, params);
      for (let s = 0; s < c.steps; s++) {
        tidy(() => {
          setGrads(c, params, s);
          opt.step();
        });
        params.forEach((p, i) => close(p.toArray(), c.trajectory[s]![i]!, 1e-6, `${c.name} step ${s} param ${i}`));
        assert.equal(params[0]!.dtype, c.dtype);
      }
      opt.dispose();
    }));
}

test('optimizer state dict: save after 2 steps, load into a fresh optimizer, continue identically', () =>
  tidy(() => {
    for (const name of ['adam-missing-grad', 'sgd-nesterov', 'adam-two-groups']) {
      const c = (FIX.optim as OptimCase[]).find((x) => x.name === name)!;
      const params = makeParams(c);
      const opt = makeOptimizer(c, params);
      for (let s = 0; s < 2; s++)
        tidy(() => {
          setGrads(c, params, s);
          opt.step();
        });
      const st = opt.stateDict();
      const json = JSON.parse(JSON.stringify(st.scalars));
      const copies = new Map([...st.tensors].map(([k, t]) => [k, t.clone()]));
      // A fresh optimizer with other hyperparameters gets them from the state.
      const params2 = params.map((p) => p.detach().clone().requireGrad());
      const c2 = { ...c, groups: c.groups.map((g) => ({ ...g, options: { ...g.options, lr: 123 } })) };
      const opt2 = makeOptimizer(c2, params2);
      opt2.loadStateDict({ tensors: copies, scalars: json });
      assert.deepEqual(opt2.lrs, opt.lrs);
      for (let s = 2; s < c.steps; s++)
        tidy(() => {
          setGrads(c, params2, s);
          opt2.step();
        });
      params2.forEach((p, i) => close(p.toArray(), c.trajectory[c.steps - 1]![i]!, 1e-6, `${name} resumed param ${i}`));
      if (name === 'adam-missing-grad') {
        assert.ok(st.tensors.has('state.0.exp_avg') && st.tensors.has('state.1.exp_avg_sq'));
        assert.deepEqual(json.state, { 0: { step: 2 }, 1: { step: 1 } });
      }
      // mismatches are reported
      assert.throws(
        () => new Adam([zeros([2]).requireGrad()]).loadStateDict({ tensors: new Map(), scalars: json }),
        name === 'adam-missing-grad' ? /param group 0 has 2 params/ : /state is for|param groups/,
      );
      opt.dispose();
      opt2.dispose();
    }
  }));

test('optimizer: lr, setLr, lrMultiplier, zeroGrad, validation', () =>
  tidy(() => {
    const a = tensor([1, 2]).requireGrad();
    const b = tensor([3]).requireGrad();
    const opt = new SGD([{ params: [a] }, { params: [b], lrMultiplier: 10 }], { lr: 0.1 });
    assert.equal(opt.lr, 0.1);
    assert.equal(opt.effectiveLr(1), 1);
    a.grad = tensor([1, 1]);
    b.grad = tensor([1]);
    opt.step();
    close(a.toArray(), [0.9, 1.9], 1e-6, 'a');
    close(b.toArray(), [2], 1e-6, 'b (lr x 10)');
    opt.setLr([0.5, 0.2]);
    assert.deepEqual(opt.lrs, [0.5, 0.2]);
    opt.lr = 0.3;
    assert.deepEqual(opt.lrs, [0.3, 0.3]);
    opt.zeroGrad();
    assert.equal(a.grad, null);
    assert.equal(b.grad, null);
    opt.step(); // no gradients: nothing moves
    close(b.toArray(), [2], 1e-6, 'b unchanged');
    assert.throws(() => opt.setLr(-1), /learning rate for group 0/);
    assert.throws(() => opt.setLr([1]), /1 learning rates for 2 param groups/);
    assert.throws(() => new Adam([a, a]), /more than one place/);
    assert.throws(() => new Adam([a.mul(2)]), /not a leaf/);
    assert.throws(() => new Adam([]), /empty parameter list/);
    assert.throws(() => new Adam([b], { betas: [0.9, 1.5] }), /betas must be two numbers/);
    assert.throws(() => new SGD([b], { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0/);
    assert.throws(() => new Adam([b], { lr: -1 }), /lr must be a finite number >= 0/);
    const adam = new Adam([{ params: [a], lrMultiplier: 100, lr: 1e-3 }]);
    assert.ok(Math.abs(adam.effectiveLr(0) - 0.1) < 1e-15);
    const st = adam.stateDict().scalars;
    assert.equal(st.groups[0]!.lrMultiplier, 100);
    assert.deepEqual(st.groups[0]!.betas, [0.9, 0.999]);
  }));

test('clipGradNorm / clipGradValue match torch.nn.utils', () =>
  tidy(() => {
    const f = FIX.clip;
    const make = () =>
      f.shapes.map((s: number[], i: number) => {
        const p = zeros(s).requireGrad();
        p.grad = tensor(Float64Array.from(f.grads[i]), s, { dtype: 'float32' });
        return p;
      });
    for (const c of f.norm) {
      const ps = make();
      const total = clipGradNorm(ps, c.maxNorm);
      assert.ok(Math.abs(total - c.total) < 1e-5, `total norm ${total} vs ${c.total}`);
      ps.forEach((p: Tensor, i: number) => close(p.grad!.toArray(), c.clipped[i], 1e-6, `clipped (max ${c.maxNorm}) ${i}`));
    }
    const ps = make();
    clipGradValue(ps, f.value.value);
    ps.forEach((p: Tensor, i: number) => close(p.grad!.toArray(), f.value.clipped[i], 1e-7, `value-clipped ${i}`));
    assert.equal(clipGradNorm([zeros([2]).requireGrad()], 1), 0, 'no gradients: norm 0');
    assert.throws(() => clipGradNorm(ps, -1), /maxNorm must be >= 0/);
  }));

test('addWeightDecayGrad and addProximalGrad', () =>
  tidy(() => {
    const p = tensor([1, -2]).requireGrad();
    p.grad = tensor([0.5, 0.5]);
    addWeightDecayGrad([p], 0.1);
    close(p.grad!.toArray(), [0.6, 0.3], 1e-7, 'wd');
    addProximalGrad([p], [tensor([0, 1])], 2);
    close(p.grad!.toArray(), [2.6, -5.7], 1e-6, 'prox');
    assert.throws(() => addProximalGrad([p], [tensor([1])], 1), /anchors\[0\] has \[1\]/);
  }));

function twoGroupSgd(): SGD {
  return new SGD(
    [
      { params: [zeros([1]).requireGrad()], lr: 0.1 },
      { params: [zeros([1]).requireGrad()], lr: 0.02 },
    ],
    { lr: 0.1 },
  );
}

function closeLrs(actual: number[][], expected: number[][], msg: string): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => close(a, expected[i]!, 1e-12, `${msg} step ${i}`));
}

test('StepLR and CosineAnnealingLR match torch', () =>
  tidy(() => {
    const s = FIX.schedules;
    let opt = twoGroupSgd();
    const step = new StepLR(opt, s.step.stepSize, s.step.gamma);
    const got = [opt.lrs];
    for (let i = 0; i < s.step.lrs.length - 1; i++) {
      step.step();
      got.push(opt.lrs);
    }
    closeLrs(got, s.step.lrs, 'StepLR');

    opt = twoGroupSgd();
    const cos = new CosineAnnealingLR(opt, s.cosine.tMax, { etaMin: s.cosine.etaMin });
    const got2 = [opt.lrs];
    for (let i = 0; i < s.cosine.lrs.length - 1; i++) {
      cos.step();
      got2.push(opt.lrs);
    }
    closeLrs(got2, s.cosine.lrs, 'Cosine');
    cos.step();
    close(opt.lrs, [s.cosine.etaMin, s.cosine.etaMin], 1e-15, 'stays at etaMin after tMax');
  }));

test('CosineAnnealingLR warm-up, ConstantLR, LambdaLR, scheduler state round trip', () =>
  tidy(() => {
    const opt = twoGroupSgd();
    const cos = new CosineAnnealingLR(opt, 10, { warmup: { steps: 4 } });
    const lrs = [opt.lrs[0]!];
    for (let i = 0; i < 14; i++) {
      cos.step();
      lrs.push(opt.lrs[0]!);
    }
    close(lrs.slice(0, 5), [0.025, 0.04375, 0.0625, 0.08125, 0.1], 1e-12, 'warm-up');
    close([lrs[9]!, lrs[14]!], [0.05, 0], 1e-12, 'cosine after warm-up');
    // save at step 6, restore into a new scheduler over a new optimizer
    const opt2 = twoGroupSgd();
    const again = new CosineAnnealingLR(opt2, 10, { warmup: { steps: 4 } });
    const st = JSON.parse(JSON.stringify(cos.stateDict()));
    again.loadStateDict(st);
    assert.deepEqual(opt2.lrs, opt.lrs);
    assert.throws(() => again.loadStateDict({ ...st, type: 'StepLR' }), /state is for 'StepLR'/);

    const o3 = twoGroupSgd();
    const c = new ConstantLR(o3);
    for (let i = 0; i < 3; i++) c.step();
    assert.deepEqual(o3.lrs, [0.1, 0.02]);
    const o4 = twoGroupSgd();
    const c2 = new ConstantLR(o4, { factor: 0.5, totalIters: 2 });
    const seq = [o4.lrs[0]];
    for (let i = 0; i < 3; i++) {
      c2.step();
      seq.push(o4.lrs[0]);
    }
    assert.deepEqual(seq, [0.05, 0.05, 0.1, 0.1]);
    const o5 = twoGroupSgd();
    const l = new LambdaLR(o5, (e) => 1 / (e + 1));
    l.step();
    assert.deepEqual(o5.lrs, [0.05, 0.01]);
    assert.throws(() => new StepLR(o5, 0), /stepSize must be a positive integer/);
  }));

for (const key of ['plateauMin', 'plateauMaxAbs']) {
  test(`ReduceLROnPlateau matches torch: ${key}, and its state survives save / load mid-way`, () =>
    tidy(() => {
      const f = FIX.schedules[key];
      const opt = twoGroupSgd();
      const sch = new ReduceLROnPlateau(opt, f.options as PlateauOptions);
      const got = [opt.lrs];
      const half = Math.floor(f.metrics.length / 2);
      let current = sch;
      let currentOpt = opt;
      for (let i = 0; i < f.metrics.length; i++) {
        if (i === half) {
          const st = JSON.parse(JSON.stringify(current.stateDict()));
          const o2 = twoGroupSgd();
          o2.setLr(currentOpt.lrs);
          const s2 = new ReduceLROnPlateau(o2, f.options as PlateauOptions);
          s2.loadStateDict(st);
          current = s2;
          currentOpt = o2;
        }
        const before = currentOpt.lrs;
        const reduced = current.step(f.metrics[i]);
        assert.equal(
          reduced,
          currentOpt.lrs.some((v, j) => v !== before[j]),
          `step ${i} return value`,
        );
        got.push(currentOpt.lrs);
      }
      closeLrs(got, f.lrs, key);
      assert.ok(got.at(-1)![0]! < got[0]![0]!, 'the lr was reduced at least once');
    }));
}

test('ReduceLROnPlateau validation', () => {
  const opt = twoGroupSgd();
  assert.throws(() => new ReduceLROnPlateau(opt, { factor: 1 }), /factor must be in/);
  assert.throws(() => new ReduceLROnPlateau(opt, { minLr: [1, 2, 3] }), /3 values for 2 param groups/);
  const s = new ReduceLROnPlateau(opt, { mode: 'max' });
  assert.equal(s.stateDict().best, null, 'infinite best is stored as null');
  assert.throws(() => s.step(NaN), /metric must be a number/);
  assert.throws(() => new ReduceLROnPlateau(opt, { mode: 'min' }).loadStateDict(s.stateDict()), /mode 'max'/);
});

test('optimizer steps do not leak tensors', () => {
  const ps = [zeros([4, 3]).requireGrad(), zeros([3]).requireGrad()];
  const adam = new Adam(ps, { weightDecay: 0.1 });
  const sgd = new SGD(ps, { lr: 0.1, momentum: 0.9 });
  const round = () =>
    tidy(() => {
      for (const p of ps) p.grad = zeros(p.shape).add(0.5);
      adam.step();
      sgd.step();
      clipGradNorm(ps, 1);
      clipGradValue(ps, 0.1);
      adam.zeroGrad();
    });
  round();
  const before = liveTensors();
  for (let i = 0; i < 5; i++) round();
  assert.equal(liveTensors(), before);
  adam.dispose();
  sgd.dispose();
  assert.equal(liveTensors(), before - 4 - 2, 'state tensors freed by dispose');
});
