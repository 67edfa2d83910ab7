// The accuracy study (bench/ccp) end to end on a tiny budget, so the script cannot silently rot: LR search on the
// validation classes, a test run per method, the Markdown table, the JSON fields and the SVG plot; and the MNIST
// Fig. 1 driver on a few images.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { main, parseArgs } from '../../bench/ccp/main.js';
import { fig1Main, meanInterClassDistance, proxySpread } from '../../bench/ccp/mnist-fig1.js';
import { tensor } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';
import { omniglotFixture } from '../helpers/omniglot.js';

const tmp = tempDir('study');

test('bench:ccp options: defaults, quick mode and errors', () => {
  const full = parseArgs([]);
  assert.equal(full.settings.mode, 'full');
  assert.equal(full.settings.methods.length, 12);
  assert.equal(full.settings.seeds.length, 3);
  assert.equal(full.settings.budget.kind, 'steps');
  assert.equal(full.settings.pretrained, 'mnist');
  assert.equal(parseArgs(['--pretrained', 'none']).settings.pretrained, 'none');
  assert.throws(
    () => parseArgs(['--pretrained', 'imagenet']),
    /--pretrained: expected 'none', 'mnist' or an existing backbone weights file, got 'imagenet' \(no such file\)/,
  );
  const quick = parseArgs(['--quick']);
  assert.equal(quick.settings.mode, 'quick');
  assert.match(quick.out, /results\/ccp\/quick$/);
  assert.deepEqual(parseArgs(['--budget', '90s', '--seeds', '0,5']).settings.budget, { kind: 'seconds', value: 90 });
  assert.deepEqual(parseArgs(['--seeds', '0,5']).settings.seeds, [0, 5]);
  assert.throws(() => parseArgs(['--methods', 'c3']), /unknown method 'c3'.*c2-ccp/);
  assert.throws(() => parseArgs(['--budget', 'lots']), /--budget/);
  assert.throws(() => parseArgs(['--frobnicate']), /unknown option '--frobnicate'/);
  // The precision comparison's options: backbone precision and per-method LRs without a search.
  const p = parseArgs(['--precision', 'bf16', '--fixed-lrs', 'c2=1e-3, ms=3e-3']).settings;
  assert.equal(p.precision, 'bf16');
  assert.deepEqual(p.fixedLrs, { c2: 1e-3, ms: 3e-3 });
  assert.equal(p.mode, 'custom');
  assert.equal(full.settings.precision, undefined, 'the default study keeps the config default');
  assert.throws(() => parseArgs(['--precision', 'fp8']), /--precision: expected 'fp32', 'bf16' or 'auto', got 'fp8'/);
  assert.throws(() => parseArgs(['--fixed-lrs', 'c9=1e-3']), /--fixed-lrs: unknown method 'c9'/);
  assert.throws(() => parseArgs(['--fixed-lrs', 'c2']), /--fixed-lrs: expected id=lr pairs/);
});

test('runConfig carries the study precision into model.precision; fixed LRs skip the search', async () => {
  const { runConfig } = await import('../../bench/ccp/study.js');
  const s = parseArgs(['--precision', 'bf16', '--methods', 'c2']).settings;
  const cfg = runConfig(s, s.methods[0]!, 0, 1e-3, { kind: 'steps', value: 10 }, 'x');
  assert.equal(cfg.model.precision, 'bf16');
  assert.equal(runConfig(parseArgs([]).settings, s.methods[0]!, 0, 1e-3, { kind: 'steps', value: 10 }, 'x').model.precision, 'fp32');
});

test('the study runs end to end on a tiny budget and writes table, JSON and plot', { timeout: 120_000 }, async () => {
  const out = join(tmp, 'out');
  const lines: string[] = [];
  const args = ['--methods', 'c2,c2-ccp', '--seeds', '1', '--budget', '8', '--steps-per-epoch', '4', '--lrs', '1e-3,3e-3', '--tune-fraction', '0.5'];
  args.push(
    '--max-classes',
    '12',
    '--channels',
    '8,16',
    '--dim',
    '16',
    '--max-val',
    '60',
    '--patience',
    '1',
    '--threads',
    '1',
    '--out',
    out,
    '--runs',
    join(tmp, 'runs', 'tiny'),
  );
  // Generated Omniglot-format zips (16 background, 12 evaluation classes), so the study runs without ../shared.
  args.push('--omniglot', await omniglotFixture());
  // The default pretrained-backbone path, with a few MNIST steps (0.01 epochs = 5 batches of 128).
  args.push('--pretrained', 'mnist', '--pretrain-epochs', '0.01');
  const { result, files } = await main(args, { log: (l) => lines.push(l) });
  assert.ok(result.settings.pretrainedFile && existsSync(result.settings.pretrainedFile), 'the pretrained backbone file exists');
  assert.ok(
    lines.some((l) => /pretrain: MNIST epoch 1\/1 \(5 steps of 128\)/.test(l)),
    lines.join('\n'),
  );
  assert.ok(lines.some((l) => /pretrain: MNIST test accuracy [\d.]+%/.test(l)));
  // 2 methods x (2 LR-search runs + 1 seed).
  assert.equal(result.runs.length, 6);
  assert.equal(result.runs.filter((r) => r.purpose === 'tune').length, 4);
  // LR-search runs evaluate on the validation classes, never on the test classes.
  for (const r of result.runs.filter((x) => x.purpose === 'tune')) assert.equal(r.final.numQueries, result.data.validationImages);
  for (const r of result.runs.filter((x) => x.purpose === 'test')) {
    assert.equal(r.final.numQueries, result.data.testImages);
    assert.equal(r.steps, 8);
    assert.equal(r.lr, result.tuning[r.method]!.chosenLr);
    assert.ok(r.report && existsSync(r.report), `${r.method}: the test run's report`);
  }
  for (const r of result.runs.filter((x) => x.purpose === 'tune')) assert.equal(r.report, undefined);
  assert.equal(result.data.testClasses, 12);
  assert.equal(result.data.trainClasses + result.data.validationClasses, 12);

  const md = readFileSync(files.markdown, 'utf8');
  assert.match(md, /\| Method \| loss \| LR \(val-tuned\) \| P@1 \| R-Precision \| MAP@R \|/);
  assert.match(md, /^\| C2 \| `contrastive` \| \de-\d \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 8 \|/m);
  assert.match(md, /^\| C2-CCP \| `ccp\/contrastive` \|/m);
  assert.match(md, /## Reading\n\n.*C2 [\d.]+ → C2-CCP [\d.]+/);
  assert.match(md, /## LR search/);
  assert.match(md, /full study would take about \d+ min/);

  const json = JSON.parse(readFileSync(files.json, 'utf8'));
  assert.deepEqual(
    json.summary.map((s: { label: string }) => s.label),
    ['C2', 'C2-CCP'],
  );
  for (const s of json.summary) {
    for (const k of ['precisionAt1', 'rPrecision', 'mapAtR']) {
      assert.ok(s[k].mean >= 0 && s[k].mean <= 1, `${s.label} ${k}`);
      assert.equal(s[k].n, 1);
    }
    assert.equal(s.steps, 8);
    assert.ok(s.wallSeconds > 0);
    assert.equal(s.tuning.length, 2);
  }
  assert.ok(json.timing.secondsPerStep > 0);
  assert.ok(json.fullStudyEstimateSeconds > 0);
  assert.equal(Object.keys(json.stepCostsSeconds).length, 12);
  assert.equal(json.runs.length, 6);
  assert.ok(json.runs[0].curve.length >= 1 && 'valMapAtR' in json.runs[0].curve[0]);

  assert.ok(existsSync(files.plot));
  const svg = readFileSync(files.plot, 'utf8');
  assert.match(svg, /^<svg/);
  assert.match(svg, /C2-CCP/);
  assert.match(svg, /validation MAP@R/);

  // Per-run records make a second invocation reuse the runs.
  const again = await main(args, { log: () => {} });
  assert.deepEqual(
    again.result.runs.map((r) => r.final.mapAtR),
    result.runs.map((r) => r.final.mapAtR),
  );
  assert.ok(again.result.runs.every((r) => r.reused));
  assert.match(readFileSync(files.markdown, 'utf8'), /6 of 6 runs were reused/);

  // A fixed LR skips that method's search; --precision reaches the runs (bf16 runs are new runs, not reused).
  const bf = await main([...args, '--fixed-lrs', 'c2-ccp=3e-3', '--precision', 'bf16', '--runs', join(tmp, 'runs', 'bf16'), '--out', join(tmp, 'out-bf16')], {
    log: () => {},
  });
  assert.equal(bf.result.runs.length, 4);
  assert.ok(bf.result.runs.every((r) => !r.reused));
  assert.deepEqual(
    bf.result.runs.filter((r) => r.method === 'c2-ccp').map((r) => [r.purpose, r.lr]),
    [['test', 3e-3]],
  );
  assert.deepEqual(bf.result.tuning['c2-ccp'], { grid: [], chosenLr: 3e-3 });
  assert.match(readFileSync(bf.files.markdown, 'utf8'), /Precision of the backbone: bf16 .*LR fixed up front \(no search\) for c2-ccp 3e-3/s);
});

test('Fig. 1 helpers: inter-class distance and proxy spread', () => {
  // Two classes at distance 2 (after N(v): points (±1, 0)); the (3,0) point is clipped to (1,0).
  const x = tensor([1, 0, 3, 0, -1, 0], [3, 2]);
  assert.equal(meanInterClassDistance(x, Int32Array.from([0, 0, 1])), 2);
  // K = 2 proxies of C = 2 classes, rows r·C + c: class 0 has (1,0),(0,1); class 1 has (0,1),(0,1).
  const P = tensor([1, 0, 0, 1, 0, 1, 0, 1], [4, 2]);
  assert.ok(Math.abs(proxySpread(P, 2) - Math.SQRT2 / 2) < 1e-12);
});

test('bench:mnist-fig1 runs on a few images and writes the table', { timeout: 120_000 }, async () => {
  const out = join(tmp, 'fig1');
  const { markdown, json } = await fig1Main(
    [
      '--max-per-class',
      '40',
      '--steps-per-epoch',
      '3',
      '--epochs',
      '4',
      '--projections',
      '1',
      '--threads',
      '1',
      '--out',
      out,
      '--runs',
      join(tmp, 'fig1-runs'),
    ],
    () => {},
  );
  const md = readFileSync(markdown, 'utf8');
  assert.match(md, /\| Stage \| best \/ end epoch \| steps \| val MAP@R \| test MAP@R \| test P@1 \| cover \| E‖x − x⁻‖ \| proxy spread \|/);
  assert.match(md, /^\| \(a\) proxy-based DML/m);
  assert.match(md, /^\| \(a′\) proxy-based DML, no projections/m);
  const j = JSON.parse(readFileSync(json, 'utf8'));
  assert.ok(j.stages.length >= 1);
  for (const s of [...j.stages, j.reference]) {
    assert.ok(s.mapAtR > 0 && s.mapAtR <= 1);
    assert.ok(s.cover > 0 && s.cover <= 2);
    assert.ok(s.interClassDistance > 0 && s.interClassDistance <= 2);
  }
  assert.equal(j.paper.length, 5);
});
