// bench:dist's C2-CCP step case (issue 14): the Python side's loss (dist_step.ccp_loss, train_bench.CcpLoss over
// C2) and ours (ccp/contrastive as step-rank builds it from step-config) agree on a small fixed input — the
// value and both gradients —; step-rank runs the 'ccp' case with 1 and 2 ranks (finite losses, ranks stay
// replicas); bad loss and case names are refused by name on both sides.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { int64, manualSeed, tensor } from '../../src/engine/index.js';
import { isCcpLoss } from '../../src/ccp/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { buildLoss } from '../../src/training/build.js';
import { SYSTEM_PYTHON } from '../../bench/common/index.js';
import { ourRanks } from '../../bench/ranks/launch.js';
import {
  BATCH_CLASSES,
  CCP_STEP,
  DEFAULT_STEP_CASES,
  STEP_CASE_NAMES,
  parseStepCases,
  parseStepLoss,
  stepCaseParts,
  stepNumClasses,
  stepRunConfig,
} from '../../bench/ranks/step-config.js';
import { repoRoot } from '../helpers/repo-root.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = repoRoot(import.meta.url);
const PY_DIR = join(ROOT, 'bench', 'python');
const tmp = tempDir('dist-ccp');

/** Why the Python check cannot run here, or null when SYSTEM_PYTHON imports torch. */
function noTorch(): string | null {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return `needs python3 with torch (Debian's python3-torch) at ${SYSTEM_PYTHON} (CCP_DML_PYTHON sets another): 'import torch' failed: ${why}`;
}

// Python: the loss dist_step.py trains with, on the JSON input; prints value and gradients.
const PY_LOSS = `
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from dist_step import ccp_loss, CCP_CLASSES
d = json.load(open(sys.argv[2]))
emb = torch.tensor(d["emb"], dtype=torch.float32).reshape(d["B"], d["D"]).requires_grad_(True)
proxies = torch.tensor(d["proxies"], dtype=torch.float32).reshape(-1, d["D"]).requires_grad_(True)
labels = torch.tensor(d["labels"], dtype=torch.int64)
assert CCP_CLASSES == d["C"], (CCP_CLASSES, d["C"])
loss = ccp_loss(proxies, CCP_CLASSES)(emb, labels)
loss.backward()
print(json.dumps({"value": loss.item(), "gEmb": emb.grad.flatten().tolist(), "gProxies": proxies.grad.flatten().tolist()}))
`;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

test('the Python CcpLoss of dist_step.py and our ccp/contrastive give the same value and gradients on a fixed input', (t) => {
  const missing = noTorch();
  if (missing) {
    t.skip(missing);
    return;
  }
  manualSeed(7);
  const cfg = parseRunConfig(stepRunConfig('small_cnn', [1, 32, 32], 'ccp'), 'test');
  const loss = buildLoss(cfg, stepNumClasses('ccp'));
  assert.ok(isCcpLoss(loss));
  try {
    const C = CCP_STEP.classes;
    const K = CCP_STEP.proxiesPerClass;
    const D = cfg.model.embeddingDim;
    assert.deepEqual([loss.name, loss.proxies.shape, loss.options.batchWeight, loss.options.proxyWeight], ['ccp/contrastive', [K * C, D], 0.1, 1.0]);
    const P = loss.proxies.detach().dataSync() as Float32Array;
    // 8 rows of 4 classes. Rows 0-3 sit near a proxy of their own class, rows 4-7 near a proxy of the next class
    // (active negative terms against the proxies and against rows 1-3, 0), at scales that leave N(v) both
    // inactive (norm < 1) and active (norm > 1).
    const B = 8;
    const labels = Array.from({ length: B }, (_, i) => i % 4);
    const scales = [1, 0.5, 3, 1, 1, 2.5, 0.8, 1.2];
    const emb = new Float32Array(B * D);
    for (let i = 0; i < B; i++) {
      const cls = i < 4 ? labels[i]! : (labels[i]! + 1) % 4;
      const row = (i % K) * C + cls; // proxy i mod K of that class (row r belongs to class r mod C)
      for (let j = 0; j < D; j++) emb[i * D + j] = scales[i]! * P[row * D + j]! + 0.05 * Math.sin(1.3 * i + 0.7 * j);
    }
    const x = tensor(emb, [B, D], { requiresGrad: true });
    const out = loss.forward(x, int64(labels));
    const value = out.item();
    out.backward();
    const gEmb = x.grad!.dataSync() as Float32Array;
    const gProxies = loss.proxies.grad!.dataSync() as Float32Array;

    const input = join(tmp, 'input.json');
    writeFileSync(input, JSON.stringify({ B, D, C, emb: [...emb], labels, proxies: [...P] }));
    const r = spawnSync(SYSTEM_PYTHON, ['-c', PY_LOSS, PY_DIR, input], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    assert.equal(r.status, 0, `python failed: ${r.stderr}`);
    const py = JSON.parse(r.stdout.trim().split('\n').pop()!) as { value: number; gEmb: number[]; gProxies: number[] };

    // Not a trivial agreement: both terms contribute, gradients reach the embeddings and several proxy rows.
    assert.ok(value > 0.1, `loss ${value}`);
    const c2 = buildLoss(parseRunConfig(stepRunConfig('small_cnn', [1, 32, 32], 'contrastive'), 'test'), stepNumClasses('contrastive'));
    const plain = c2.forward(tensor(emb, [B, D]), int64(labels)).item();
    assert.ok(Math.abs(value - 0.1 * plain) > 0.05, `the proxy term adds to 0.1 x C2 (${value} vs ${0.1 * plain})`);
    const rowsWithGrad = Array.from({ length: K * C }, (_, r) => maxAbs(gProxies.subarray(r * D, (r + 1) * D)) > 0).filter(Boolean).length;
    assert.ok(rowsWithGrad >= 8, `proxy rows with a gradient: ${rowsWithGrad}`);
    assert.ok(maxAbs(gEmb) > 1e-3);

    assert.ok(Math.abs(value - py.value) <= 1e-5 * Math.abs(py.value), `loss: ours ${value}, Python ${py.value}`);
    assert.ok(maxAbsDiff(gEmb, py.gEmb) <= 1e-5 * maxAbs(py.gEmb) + 1e-7, `embedding gradient differs by ${maxAbsDiff(gEmb, py.gEmb)}`);
    assert.ok(maxAbsDiff(gProxies, py.gProxies) <= 1e-5 * maxAbs(py.gProxies) + 1e-7, `proxy gradient differs by ${maxAbsDiff(gProxies, py.gProxies)}`);
  } finally {
    loss.dispose();
  }
});

interface RankOut {
  ms: number[];
  losses: number[];
  drift: number;
}

const small = (loss: string, extra: string[] = []) => ['small_cnn', loss, '8', '16', '1', '1', ...extra];

test("step-rank runs the 'ccp' case with 1 process: 2 steps, finite CCP losses", async () => {
  const ccp = await ourRanks<RankOut>(1, 'step-rank.js', small('ccp'), { echoStderr: false });
  assert.equal(ccp.losses.length, 2);
  assert.equal(ccp.ms.length, 1);
  for (const v of [...ccp.losses, ...ccp.ms]) assert.ok(Number.isFinite(v) && v > 0, `not a finite positive number: ${v}`);
  assert.equal(ccp.drift, 0);
  // The same seed with the plain loss gives other values: the argument chose the loss.
  const plain = await ourRanks<RankOut>(1, 'step-rank.js', small('contrastive'), { echoStderr: false });
  assert.notEqual(ccp.losses[0], plain.losses[0]);
});

test("step-rank's 'ccp' case with 2 processes: weights and proxies stay the same on both ranks", async () => {
  for (const mode of ['overlap', 'after']) {
    const r = await ourRanks<RankOut>(2, 'step-rank.js', small('ccp', [mode]), { echoStderr: false });
    assert.equal(r.losses.length, 2);
    assert.ok(r.losses.every(Number.isFinite), `losses ${r.losses}`);
    assert.equal(r.drift, 0, `${mode}: a rank's tensors drifted from rank 0's by ${r.drift}`);
  }
});

test('an unknown loss is refused by name by step-rank and dist_step.py; unknown BENCH_CASES names too', async (t) => {
  assert.throws(() => parseStepLoss('ccp/contrastive'), /loss: unknown loss 'ccp\/contrastive' \(expected contrastive or ccp\)/);
  assert.equal(parseStepLoss('ccp'), 'ccp');
  await assert.rejects(
    ourRanks(1, 'step-rank.js', small('bogus'), { echoStderr: false }),
    (e: Error) => /"code":2/.test(e.message) && /step-rank: loss: unknown loss 'bogus' \(expected contrastive or ccp\)/.test(e.message),
  );
  await assert.rejects(ourRanks(1, 'step-rank.js', small('ccp', ['sideways']), { echoStderr: false }), /mode: expected overlap or after, got 'sideways'/);

  assert.deepEqual(parseStepCases(undefined), DEFAULT_STEP_CASES.split(','));
  assert.deepEqual(parseStepCases(''), ['small-c2', 'small-c2ccp', 'large-c2ccp']);
  assert.deepEqual(parseStepCases('all'), [...STEP_CASE_NAMES]);
  assert.deepEqual(parseStepCases(' large-c2ccp, small-c2ccp,large-c2ccp '), ['large-c2ccp', 'small-c2ccp']);
  assert.throws(() => parseStepCases('small-c2,small-ccp,huge'), /BENCH_CASES: unknown case\(s\) 'small-ccp', 'huge' \(expected 'all' or/);
  assert.deepEqual(stepCaseParts('large-c2ccp'), { model: 'bninception', loss: 'ccp' });
  assert.deepEqual(stepCaseParts('small-c2'), { model: 'small_cnn', loss: 'contrastive' });

  const missing = noTorch();
  if (missing) {
    t.diagnostic(`dist_step.py not checked: ${missing}`);
    return;
  }
  const py = spawnSync(SYSTEM_PYTHON, [join(PY_DIR, 'dist_step.py'), ...small('bogus')], {
    encoding: 'utf8',
    env: { ...process.env, WORLD_SIZE: '1', RANK: '0' },
  });
  assert.equal(py.status, 2, py.stderr);
  assert.match(py.stderr, /dist_step.py: loss: unknown loss 'bogus' \(expected contrastive or ccp\)/);
});

test('dist_step.py holds the constants of step-config.ts', () => {
  // The two sides are separate programs; the CCP case's C, K and λ, its weights and the C2 margins must agree.
  const src = readFileSync(join(PY_DIR, 'dist_step.py'), 'utf8');
  const numbers = (names: string) => {
    const m = new RegExp(`^${names} = (.+)$`, 'm').exec(src);
    assert.ok(m, `dist_step.py has no line '${names} = ...'`);
    return m[1]!.split(',').map((v) => Number(v.trim()));
  };
  const cfg = parseRunConfig(stepRunConfig('small_cnn', [1, 32, 32], 'ccp'), 'test');
  const o = cfg.loss.options as { posMargin: number; negMargin: number };
  assert.deepEqual(numbers('CCP_CLASSES, CCP_K, CCP_LAMBDA'), [CCP_STEP.classes, CCP_STEP.proxiesPerClass, CCP_STEP.lambda]);
  assert.deepEqual([cfg.ccp.proxiesPerClass, cfg.ccp.lambda], [CCP_STEP.proxiesPerClass, CCP_STEP.lambda]);
  assert.deepEqual(numbers('W_BATCH, W_PROXY'), [cfg.ccp.batchWeight, cfg.ccp.proxyWeight]);
  assert.deepEqual(numbers('POS_MARGIN, NEG_MARGIN'), [o.posMargin, o.negMargin]);
  assert.deepEqual(numbers('BATCH_CLASSES'), [BATCH_CLASSES]);
});
