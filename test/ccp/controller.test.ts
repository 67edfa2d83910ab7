import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, keep, tidy, zeros, full, randn, manualSeed, noGrad, tensor, int64, allclose } from '../../src/engine/index.js';
import {
  CcpController,
  CcpProxySet,
  resolveCcpOptions,
  greedyKCenter,
  rowsToClassMajor,
  ccp,
  proxyCoverDiagnostics,
  type CcpContext,
  type CcpOptionsInput,
  type CcpProjectionEvent,
} from '../../src/ccp/index.js';
import { PairDouble } from './doubles.js';

const C = 2;
const K = 2;
const D = 3;

/** A controller with two "network" weights, a pool sampler that records calls and keeps copies of the pools. */
function setup(opts: CcpOptionsInput = {}) {
  const proxies = new CcpProxySet(C, K, D);
  const weight = keep(zeros([2, 2])).requireGrad(true);
  const bias = keep(zeros([3])).requireGrad(true);
  const parameters: [string, Tensor][] = [
    ['head.weight', weight],
    ['head.bias', bias],
  ];
  const requested: number[] = [];
  const pools: Tensor[] = [];
  const ctx: CcpContext = {
    parameters,
    samplePool: async (bPrime) => {
      requested.push(bPrime);
      const pool = randn([C, bPrime, D]);
      pools.push(keep(pool.clone()));
      return pool;
    },
  };
  const controller = new CcpController(proxies, resolveCcpOptions({ proxiesPerClass: K, poolSize: 4, ...opts }));
  /** Simulates one epoch of training: every weight becomes `epoch`, every proxy 10·epoch. */
  const train = (epoch: number) =>
    noGrad(() => {
      weight.fill_(epoch);
      bias.fill_(epoch);
      proxies.proxies.fill_(10 * epoch);
    });
  const dispose = () => {
    controller.dispose();
    weight.dispose();
    bias.dispose();
    for (const p of pools) p.dispose();
  };
  return { proxies, weight, bias, parameters, ctx, controller, requested, pools, train, dispose };
}

async function drive(metrics: number[], opts: CcpOptionsInput = {}) {
  const s = setup(opts);
  await s.controller.onTrainBegin(s.ctx);
  const results = [];
  for (let e = 1; e <= metrics.length; e++) {
    s.train(e);
    results.push(await s.controller.onEpochEnd(metrics[e - 1]!, { ...s.ctx, epoch: e }));
  }
  return { ...s, results };
}

const SCRIPT = [0.1, 0.2, 0.2, 0.2, 0.2, 0.3, 0.25, 0.25, 0.25, 0.25];

test('onTrainBegin: KCENTER from a fresh pool of b′ with zero seeds, λ = 0, t = 0', async () => {
  manualSeed(11);
  const s = setup({ poolSize: 1 + 2 }); // b = 3 >= K = 2 → b′ = 3
  try {
    await s.controller.onTrainBegin(s.ctx);
    assert.deepEqual(s.requested, [3]);
    assert.equal(s.controller.t, 0);
    assert.equal(s.controller.lambda, 0);
    tidy(() => assert.ok(allclose(s.proxies.proxies.detach(), greedyKCenter(s.pools[0]!, zeros([C, K, D]), K), 0, 0)));
    // Calling it again (or after a resume) does not re-initialise.
    await s.controller.onTrainBegin(s.ctx);
    assert.equal(s.requested.length, 1);
  } finally {
    s.dispose();
  }
  const t = setup({ poolSize: 1 }); // b = 1 < K → b′ = b·K = 2, random branch
  try {
    await t.controller.onTrainBegin(t.ctx);
    assert.deepEqual(t.requested, [2]);
  } finally {
    t.dispose();
  }
});

test('a projection happens exactly when patience runs out (current-epoch metric)', async () => {
  const s = await drive(SCRIPT);
  try {
    assert.deepEqual(
      s.controller.history.map((e) => e.epoch),
      [5, 9],
    );
    assert.deepEqual(
      s.controller.history.map((e) => e.t),
      [1, 2],
    );
    assert.deepEqual(
      s.controller.history.map((e) => e.bestMetric),
      [0.2, 0.3],
    );
    assert.deepEqual(
      s.results.map((r) => r.projected).flatMap((p, i) => (p ? [i + 1] : [])),
      [5, 9],
    );
    assert.deepEqual(
      s.results.map((r) => r.improved),
      [true, true, false, false, false, true, false, false, false, true],
    );
    assert.deepEqual(
      s.results.map((r) => r.wait),
      [0, 0, 1, 2, 0, 0, 1, 2, 0, 0],
    );
    assert.deepEqual(s.requested, [4, 4, 4]); // initial + two projections
    assert.equal(s.controller.t, 2);
  } finally {
    s.dispose();
  }
});

test('laggedMetric: decisions use the previous epoch’s metric (0 at epoch 1)', async () => {
  const s = await drive(SCRIPT, { laggedMetric: true });
  try {
    assert.deepEqual(
      s.results.map((r) => r.monitored),
      [0, ...SCRIPT.slice(0, -1)],
    );
    assert.deepEqual(
      s.controller.history.map((e) => e.epoch),
      [6, 10],
    );
  } finally {
    s.dispose();
  }
});

test('minDelta, patience and minIterations', async () => {
  // Gains below minDelta = 1e-5 over the problem's best do not count.
  let s = await drive([0.5, 0.500004, 0.500008, 0.5000099, 0.6]);
  try {
    assert.deepEqual(
      s.controller.history.map((e) => e.epoch),
      [4],
    );
  } finally {
    s.dispose();
  }
  s = await drive([0.5, 0.500004, 0.500008, 0.5000099], { minDelta: 0 });
  try {
    assert.equal(s.controller.history.length, 0);
  } finally {
    s.dispose();
  }
  // patience 1: every non-improving epoch ends the problem, unless fewer than minIterations epochs were spent in it.
  s = await drive([0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1], { patience: 1, minIterations: 3 });
  try {
    assert.deepEqual(
      s.controller.history.map((e) => e.epoch),
      [3, 6],
    );
  } finally {
    s.dispose();
  }
  // NaN never improves.
  s = await drive([NaN, NaN, NaN]);
  try {
    assert.deepEqual(
      s.controller.history.map((e) => e.epoch),
      [3],
    );
  } finally {
    s.dispose();
  }
});

test('snapshots: θ_best and P_best are taken at the best epoch; projection anchors θ_best, re-seeds from P_best in place', async () => {
  manualSeed(12);
  const s = await drive([0.1, 0.5, 0.3, 0.3, 0.3]);
  try {
    const [ev] = s.controller.history;
    assert.equal(ev!.epoch, 5);
    // Best epoch 2: θ_best = 2 everywhere, P_best = 20 everywhere.
    for (const t of s.controller.thetaBest!) assert.ok(t.toArray().every((v) => v === 2));
    assert.ok(s.proxies.best.toArray().every((v) => v === 20));
    // Anchor = θ_best (a separate copy), λ = 2e-4; the live weights are not reset (still 5).
    const anchors = s.controller.thetaAnchor!;
    assert.equal(anchors.length, 2);
    assert.deepEqual(
      anchors.map((a) => a.shape),
      [[2, 2], [3]],
    );
    for (const a of anchors) assert.ok(a.toArray().every((v) => v === 2));
    assert.notEqual(anchors[0], s.controller.thetaBest![0]);
    assert.ok(s.weight.toArray().every((v) => v === 5));
    assert.equal(s.controller.lambda, 2e-4);
    // P ← KCENTER(pool, P_best, K): the live P tensor (same handle, still learnable) holds pool rows.
    tidy(() => {
      const expected = greedyKCenter(s.pools[1]!, full([C, K, D], 20), K);
      assert.ok(allclose(s.proxies.proxies.detach(), expected, 0, 0));
      assert.equal(s.proxies.proxies.requiresGrad, true);
    });
    // The event records the covering radius and spread of the new proxies over the pool they came from.
    const cover = tidy(() => proxyCoverDiagnostics(s.pools[1]!, s.proxies.classMajor()));
    assert.deepEqual(
      { r: ev!.coveringRadius, m: ev!.coveringRadiusMax, s: ev!.proxySpread },
      { r: cover.coveringRadius, m: cover.coveringRadiusMax, s: cover.proxySpread },
    );
    assert.ok(cover.coveringRadius > 0 && cover.coveringRadius <= cover.coveringRadiusMax);
    // The new problem starts from −∞: the next epoch improves whatever its value, and θ_best moves, the anchor stays.
    s.train(6);
    const r = await s.controller.onEpochEnd(0.01, { ...s.ctx, epoch: 6 });
    assert.equal(r.improved, true);
    assert.ok(s.controller.thetaBest![1]!.toArray().every((v) => v === 6));
    assert.ok(s.controller.thetaAnchor![1]!.toArray().every((v) => v === 2));
  } finally {
    s.dispose();
  }
});

test('projections: false ends problems (anchor, λ_t, t) and measures the trained proxies on a pool, but never re-places them', async () => {
  const on = await drive([0.1, 0.5, 0.3, 0.3, 0.3]);
  const off = await drive([0.1, 0.5, 0.3, 0.3, 0.3], { projections: false });
  try {
    assert.deepEqual(on.requested, [4, 4]);
    assert.deepEqual(off.requested, [4, 4], 'the initial placement, then a pool for the diagnostic');
    assert.deepEqual([on.controller.history[0]!.proxiesReplaced, off.controller.history[0]!.proxiesReplaced], [true, false]);
    const ev = off.controller.history[0]!;
    assert.deepEqual([ev.epoch, ev.t, ev.lambda, ev.coveringRadius], [5, 1, 2e-4, undefined]);
    // The diagnostic is of the trained proxies (every entry 50 after epoch 5) on the pool drawn at the problem's end.
    const trained = tidy(() => proxyCoverDiagnostics(off.pools[1]!, full([C, K, D], 50)));
    assert.equal(ev.coveringRadiusBefore, trained.coveringRadius);
    assert.equal(ev.proxySpreadBefore, 0, 'identical trained proxies: spread 0');
    // Re-placing on pool rows covers the pool at least as well as the trained proxies (every pool row is a candidate).
    assert.ok(on.controller.history[0]!.coveringRadius! <= on.controller.history[0]!.coveringRadiusBefore! + 1e-12);
    assert.equal(off.controller.t, 1);
    assert.equal(off.controller.lambda, 2e-4);
    for (const a of off.controller.thetaAnchor!) assert.ok(a.toArray().every((v) => v === 2));
    // The live proxies keep what training made of them (50 after epoch 5); with projections they are pool rows.
    assert.ok(off.proxies.proxies.toArray().every((v) => v === 50));
    assert.ok(!on.proxies.proxies.toArray().every((v) => v === 50));
    // The next problem runs as usual: improvement from −∞, a second end after patience.
    for (const e of [6, 7, 8, 9]) {
      off.train(e);
      await off.controller.onEpochEnd(0.2, { ...off.ctx, epoch: e });
    }
    assert.deepEqual(
      off.controller.history.map((h) => h.epoch),
      [5, 9],
    );
    assert.deepEqual(off.requested, [4, 4, 4]);
  } finally {
    on.dispose();
    off.dispose();
  }
});

test('lagged snapshots are one epoch after the truly best epoch', async () => {
  const s = await drive([0.1, 0.5, 0.3, 0.3, 0.3, 0.3], { laggedMetric: true });
  try {
    assert.deepEqual(
      s.controller.history.map((e) => e.epoch),
      [6],
    );
    for (const t of s.controller.thetaAnchor!) assert.ok(t.toArray().every((v) => v === 3));
    assert.ok(s.proxies.best.toArray().every((v) => v === 30));
  } finally {
    s.dispose();
  }
});

test('λ_t = λ·decay^t after each projection', async () => {
  const s = await drive([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { lambda: 1e-3, decay: 0.5 });
  try {
    assert.deepEqual(
      s.controller.history.map((e) => e.epoch),
      [4, 8, 12],
    );
    assert.deepEqual(
      s.controller.history.map((e) => e.lambda),
      [5e-4, 2.5e-4, 1.25e-4],
    );
  } finally {
    s.dispose();
  }
});

test('regulariser: exactly zero in the first problem, λ(θ − θ_anchor) afterwards, on network weights only', async () => {
  manualSeed(13);
  const s = setup();
  const loss = new PairDouble();
  try {
    await s.controller.onTrainBegin(s.ctx);
    // A step: the network (weight ⊙ input) produces embeddings; the CCP objective touches θ and P.
    const x = tensor([
      [1, 2, 3],
      [0, 1, 0],
      [2, 0, 1],
      [1, 1, 1],
    ]);
    const y = int64([0, 0, 1, 1]);
    const step = () =>
      tidy(() => {
        for (const [, p] of s.parameters) p.zeroGrad();
        s.proxies.proxies.zeroGrad();
        const emb = x.mul(s.bias).add(s.weight.sum());
        const objective = loss
          .forward(emb, y)
          .mul(0.1)
          .add(loss.forward(emb, y, { embeddings: s.proxies.proxies, labels: s.proxies.labels }));
        objective.backward();
      });
    const grads = () => [...s.parameters.map(([, p]) => p.grad!.clone()), s.proxies.proxies.grad!.clone()].map(keep);
    const net = s.parameters.map(([, p]) => p);

    noGrad(() => {
      s.weight.copy_(
        tensor([
          [0.5, -1],
          [2, 0.25],
        ]),
      );
      s.bias.copy_(tensor([1, -2, 0.5]));
    });
    step();
    const before = grads();
    s.controller.applyRegularizer(net);
    const after = grads();
    before.forEach((g, i) => assert.ok(allclose(g, after[i]!, 0, 0), `first problem changed gradient ${i}`));

    // End the first problem (best at epoch 1 with θ = current values), then move θ away from the anchor.
    for (const m of [0.5, 0.4, 0.4, 0.4]) await s.controller.onEpochEnd(m, s.ctx);
    assert.equal(s.controller.t, 1);
    const anchor = s.controller.thetaAnchor!.map((a) => keep(a.clone()));
    noGrad(() => {
      s.weight.add_(
        tensor([
          [1, 2],
          [3, 4],
        ]),
      );
      s.bias.mul_(3);
    });
    step();
    const g0 = grads();
    s.controller.applyRegularizer(net);
    const g1 = grads();
    tidy(() => {
      net.forEach((p, i) => {
        const expected = g0[i]!.add(p.detach().sub(anchor[i]!).mul(2e-4));
        assert.ok(allclose(g1[i]!, expected, 1e-6, 1e-9), `θ gradient ${i}`);
        assert.ok(!allclose(g1[i]!, g0[i]!, 0, 1e-6), `θ gradient ${i} should change`);
      });
      assert.ok(allclose(g1[2]!, g0[2]!, 0, 0), 'proxy gradient changed');
      assert.ok(
        Math.abs(s.controller.regularizer.penalty(net) - (2e-4 / 2) * net.reduce((a, p, i) => a + p.detach().sub(anchor[i]!).square().sum().item(), 0)) < 1e-9,
      );
    });
    [...before, ...after, ...g0, ...g1, ...anchor].forEach((t) => t.dispose());
    // θ means network weights: passing the proxies in the context is refused.
    await assert.rejects(
      s.controller.onEpochEnd(0.1, { ...s.ctx, parameters: [...s.parameters, ['proxies', s.proxies.proxies]] }),
      /must not include the proxies/,
    );
  } finally {
    s.dispose();
  }
});

test('λ = 0 keeps no θ snapshots at all', async () => {
  const s = await drive([0.1, 0.1, 0.1, 0.1], { lambda: 0 });
  try {
    assert.equal(s.controller.history.length, 1);
    assert.equal(s.controller.thetaBest, null);
    assert.equal(s.controller.thetaAnchor, null);
    assert.equal(s.controller.regularizer.active, false);
    // After the projection the regulariser adds nothing to the gradients.
    s.weight.grad = full([2, 2], 0.5);
    s.controller.applyRegularizer([s.weight]);
    assert.ok(s.weight.grad!.toArray().every((v) => v === 0.5));
  } finally {
    s.dispose();
  }
});

test('state save/load roundtrip: same tensors, same scalars, same future decisions, no re-initialisation', async () => {
  manualSeed(14);
  const a = await drive([0.1, 0.5, 0.3, 0.3, 0.3, 0.7, 0.6]);
  const b = setup();
  try {
    const state = a.controller.stateDict();
    assert.ok(state.tensors.has('ccp.proxies') && state.tensors.has('ccp.proxies_best'));
    assert.ok(state.tensors.has('ccp.theta_best.head.weight') && state.tensors.has('ccp.theta_anchor.head.bias'));
    const json = JSON.parse(JSON.stringify(state.scalars));
    // Reload through plain clones, as a checkpoint file would give.
    const tensors = new Map([...state.tensors].map(([k, t]) => [k, t.detach().clone()] as [string, Tensor]));
    // The restored model's own weights (θ) come from the trainer's checkpoint.
    noGrad(() => {
      b.weight.copy_(a.weight);
      b.bias.copy_(a.bias);
    });
    b.controller.loadStateDict({ tensors, scalars: json }, b.parameters);
    await b.controller.onTrainBegin(b.ctx);
    assert.equal(b.requested.length, 0, 'resume must not re-initialise the proxies');
    assert.deepEqual(b.controller.stateDict().scalars, a.controller.stateDict().scalars);
    const sa = a.controller.stateDict().tensors;
    const sb = b.controller.stateDict().tensors;
    assert.deepEqual([...sb.keys()].sort(), [...sa.keys()].sort());
    for (const [k, t] of sa)
      assert.ok(
        tidy(() => allclose(t.detach(), sb.get(k)!.detach(), 0, 0)),
        k,
      );
    // Continue both with the same metrics: same projection epochs and λ.
    for (const [e, m] of [
      [8, 0.6],
      [9, 0.6],
      [10, 0.65],
    ] as [number, number][]) {
      a.train(e);
      b.train(e);
      const ra = await a.controller.onEpochEnd(m, { ...a.ctx, epoch: e });
      const rb = await b.controller.onEpochEnd(m, { ...b.ctx, epoch: e });
      assert.deepEqual(rb, ra);
    }
    // Same decisions; the covering diagnostics differ, since the double draws every pool at random.
    const decisions = (h: readonly CcpProjectionEvent[]) => h.map(({ epoch, t, metric, bestMetric, lambda }) => ({ epoch, t, metric, bestMetric, lambda }));
    assert.deepEqual(decisions(b.controller.history), decisions(a.controller.history));
    assert.deepEqual(
      a.controller.history.map((h) => h.epoch),
      [5, 9],
    );
    for (const t of tensors.values()) t.dispose();
    // Mismatched layouts are refused.
    const c = new CcpController(new CcpProxySet(3, K, D), resolveCcpOptions({ proxiesPerClass: K }));
    assert.throws(() => c.loadStateDict(a.controller.stateDict(), a.parameters), /C=2/);
    c.dispose();
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('CcpLoss.controller drives the loss’s own proxies', async () => {
  const loss = ccp(new PairDouble(), { numClasses: C, dim: D, proxiesPerClass: K, poolSize: 4 });
  try {
    assert.equal(loss.controller.proxies.proxies, loss.parameters()[0]);
    assert.equal(loss.controller, loss.controller);
    const pool = keep(randn([C, 4, D]));
    await loss.controller.onTrainBegin({ parameters: [], samplePool: async () => pool.clone() });
    tidy(() => assert.ok(allclose(loss.proxies.detach(), greedyKCenter(pool, zeros([C, K, D]), K), 0, 0)));
    tidy(() => assert.deepEqual(rowsToClassMajor(loss.proxies.detach(), C).shape, [C, K, D]));
    pool.dispose();
  } finally {
    loss.dispose();
  }
});

test('state JSON survives NaN metrics (lagged resume)', async () => {
  const a = await drive([0.2, NaN], { laggedMetric: true });
  const b = setup({ laggedMetric: true });
  try {
    const state = a.controller.stateDict();
    const scalars = JSON.parse(JSON.stringify(state.scalars));
    assert.equal(scalars.previousMetric, null);
    b.controller.loadStateDict({ tensors: state.tensors, scalars }, b.parameters);
    // The next lagged decision sees NaN (no improvement), exactly as the uninterrupted run.
    const ra = await a.controller.onEpochEnd(0.9, { ...a.ctx, epoch: 3 });
    const rb = await b.controller.onEpochEnd(0.9, { ...b.ctx, epoch: 3 });
    assert.ok(Number.isNaN(rb.monitored));
    assert.deepEqual(rb, ra);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('K = 1, b = 1: each class’s single proxy is its single pool candidate, at the start and at every projection', async () => {
  manualSeed(21);
  const proxies = new CcpProxySet(C, 1, D);
  const pools: Tensor[] = [];
  const ctx: CcpContext = {
    parameters: [],
    samplePool: async (bPrime) => {
      assert.equal(bPrime, 1);
      const pool = randn([C, 1, D]);
      pools.push(keep(pool.clone()));
      return pool;
    },
  };
  const controller = new CcpController(proxies, resolveCcpOptions({ proxiesPerClass: 1, poolSize: 1, patience: 1 }));
  try {
    await controller.onTrainBegin(ctx);
    tidy(() => assert.ok(allclose(proxies.classMajor(), pools[0]!, 0, 0)));
    await controller.onEpochEnd(0.5, { ...ctx, epoch: 1 });
    await controller.onEpochEnd(0.4, { ...ctx, epoch: 2 });
    assert.equal(controller.history.length, 1);
    tidy(() => assert.ok(allclose(proxies.classMajor(), pools[1]!, 0, 0)));
  } finally {
    controller.dispose();
    for (const p of pools) p.dispose();
  }
});
