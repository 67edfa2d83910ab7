// The run report: its inputs (projection diagnostics, per-step and projection log lines, per-query AP@R that
// averages to the test MAP@R), and a real tiny CCP run's report.html rendered in headless Chromium with every
// section and figure present, every thumbnail decoded and no console error.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, tidy } from '../../src/engine/index.js';
import { proxyCoverDiagnostics } from '../../src/ccp/index.js';
import { parseRunConfig } from '../../src/training/config.js';
import { train } from '../../src/training/trainer.js';
import { prepareData } from '../../src/training/data-setup.js';
import { analyzeRetrieval, buildRunReport, readRunRecords, stratifiedSample, runReportCallback, FIGURES_DIR } from '../../src/report/index.js';
import { reportCommand } from '../../src/cli/commands.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';

test('proxyCoverDiagnostics: covering radius and spread of a hand-made pool', () => {
  // Class 0: pool (0,0), (0.6,0), (0,0.8); proxies (0,0), (0.6,0): the farthest candidate (0,0.8) is 0.8 from (0,0).
  // Class 1: pool (0.1,0), (0.3,0), (0.2,0); proxies (0.1,0), (0.3,0): radius 0.1. Spreads 0.6 and 0.2.
  const r = tidy(() =>
    proxyCoverDiagnostics(tensor([0, 0, 0.6, 0, 0, 0.8, 0.1, 0, 0.3, 0, 0.2, 0], [2, 3, 2]), tensor([0, 0, 0.6, 0, 0.1, 0, 0.3, 0], [2, 2, 2])),
  );
  assert.ok(Math.abs(r.coveringRadius - 0.45) < 1e-6, `mean radius ${r.coveringRadius}`);
  assert.ok(Math.abs(r.coveringRadiusMax - 0.8) < 1e-6, `worst radius ${r.coveringRadiusMax}`);
  assert.ok(Math.abs(r.proxySpread - 0.4) < 1e-6, `spread ${r.proxySpread}`);
});

test('analyzeRetrieval: per-query AP@R, per-class MAP@R and the worst queries, by hand', () => {
  // 1-D embeddings (no normalisation): class 0 at 0, 0.1, 1.0; class 1 at 0.9, 2.0.
  const e = { data: Float32Array.from([0, 0.1, 1.0, 0.9, 2.0]), dim: 1, labels: Int32Array.from([0, 0, 0, 1, 1]) };
  const a = analyzeRetrieval(e, undefined, { normalization: 'none', topK: 2, shown: 2 });
  // q0: 0.1(+) 0.9(-): R=2, AP = (1/1)/2 = 0.5; q1: 0(+) 0.9(-): 0.5; q2: 0.9(-) 0.1(+): (1/2)/2 = 0.25;
  // q3: 1.0(-): R=1, AP 0; q4: 1.0(-): 0.
  assert.deepEqual(Array.from(a.apAtR), [0.5, 0.5, 0.25, 0, 0]);
  assert.deepEqual(Array.from(a.hitAt1), [1, 1, 0, 0, 0]);
  assert.deepEqual(a.perClass, [
    { label: 0, queries: 3, mapAtR: 1.25 / 3 },
    { label: 1, queries: 2, mapAtR: 0 },
  ]);
  assert.deepEqual(
    a.worst.map((q) => q.index),
    [3, 4],
  );
  assert.deepEqual(
    a.worst[0]!.neighbours.map((n) => [n.index, n.hit]),
    [
      [2, false],
      [1, false],
    ],
  );
  assert.ok(Math.abs(a.worst[0]!.neighbours[0]!.distance - 0.1) < 1e-6);
  assert.equal(a.random.length, 2);
  assert.ok(
    a.random.every((q) => q.index <= 2),
    'random queries are drawn from the others',
  );
});

test('stratifiedSample keeps every class in proportion and is seeded', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 800 ? 0 : 1));
  const s = stratifiedSample(labels, 100, 4);
  assert.equal(s.filter((i) => labels[i] === 0).length, 80);
  assert.equal(s.filter((i) => labels[i] === 1).length, 20);
  assert.deepEqual(stratifiedSample(labels, 100, 4), s);
  assert.equal(stratifiedSample(labels, 5000, 4).length, 1000);
});

test('a tiny CCP run writes a complete report; Chromium renders it without errors', { timeout: 600_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccp-report-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const cfg = parseRunConfig({
    name: 'tiny-report',
    seed: 3,
    outputDir: tmp,
    dataset: { name: 'mnist', imageSize: 28, channels: 1, validation: 'samples', validationShare: 0.2, maxPerClass: 60 },
    model: { name: 'small_cnn', embeddingDim: 16, options: { channels: [8, 16] } },
    loss: { name: 'ccp/contrastive' },
    // patience 1 and a min delta only the first epoch of a problem reaches: a projection every second epoch.
    ccp: { proxiesPerClass: 2, poolSize: 3, patience: 1 },
    optimizer: { lr: 2e-3 },
    training: {
      classesPerBatch: 5,
      samplesPerClass: 4,
      stepsPerEpoch: 10,
      maxEpochs: 4,
      earlyStopPatience: 10,
      minDelta: 0.5,
      evalBatchSize: 128,
      logEverySteps: 5,
    },
  });
  const data = await prepareData(cfg.dataset, cfg.seed);
  const r = await train(cfg, { quiet: true, data, callbacks: [runReportCallback()] });
  const runDir = join(tmp, 'tiny-report');
  assert.equal(r.reportPath, join(runDir, 'report.html'));
  assert.ok(r.ccpProjections.length >= 2, `projections: ${r.ccpProjections.length}`);

  // The log holds what the report shows.
  const rec = readRunRecords(runDir);
  assert.equal(rec.epochs.length, 4);
  assert.deepEqual(
    rec.steps.map((s) => s.step),
    [5, 10, 15, 20, 25, 30, 35, 40],
  );
  assert.equal(rec.projections.length, r.ccpProjections.length);
  for (const p of rec.projections) {
    assert.ok(p.coveringRadius! > 0 && p.coveringRadius! <= p.coveringRadiusMax! && p.coveringRadiusMax! <= 2, JSON.stringify(p));
    assert.ok(p.proxySpread! > 0 && p.proxySpread! <= 2, JSON.stringify(p));
    // The trained proxies' cover of the same pool, before re-placement (N(v) distances: at most 2).
    assert.ok(p.coveringRadiusBefore! > 0 && p.coveringRadiusBefore! <= 2, JSON.stringify(p));
    assert.equal(typeof p.bestMetric, 'number');
  }
  // A line cut short by a kill at the end of the log is ignored.
  appendFileSync(join(runDir, 'metrics.jsonl'), '{"kind":"epoch","epo');
  assert.equal(readRunRecords(runDir).epochs.length, 4);

  // `ccp-dml report` recomputes the test embeddings from the saved weights: its per-query AP@R and P@1 average to
  // the trainer's test MAP@R and P@1.
  const again = await buildRunReport(runDir, {});
  const ap = Array.from(again.analysis.apAtR).filter((v) => !Number.isNaN(v));
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  assert.ok(Math.abs(mean(ap) - r.test!.mapAtR!) < 1e-6, `mean AP@R ${mean(ap)} vs MAP@R ${r.test!.mapAtR}`);
  assert.ok(Math.abs(mean(Array.from(again.analysis.hitAt1)) - r.test!.precisionAt1!) < 1e-6);
  assert.equal(await reportCommand({ run: runDir }), r.reportPath);
  const figures = ['loss', 'validation', 'schedule', 'projections', 'map', 'class-hist', 'class-worst'];
  for (const f of figures) assert.ok(statSync(join(runDir, FIGURES_DIR, `${f}.svg`)).size > 1000, `${f}.svg`);

  const html = readFileSync(r.reportPath!, 'utf8');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'nothing is loaded from the network');

  const missing = chromiumMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (q) => {
      if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) problems.push(`request: ${q.url()}`);
    });
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`file://${r.reportPath}`, { waitUntil: 'load' });
    for (const id of ['summary', 'test-metrics', 'curves', 'projections', 'retrieval', 'embedding-map', 'per-class', 'config']) {
      assert.equal(await page.locator(`section#${id} h2`).count(), 1, `section ${id}`);
    }
    for (const id of ['fig-loss', 'fig-validation', 'fig-schedule', 'fig-projections', 'fig-map', 'fig-class-hist', 'fig-class-worst']) {
      const box = await page.locator(`figure#${id} > svg`).boundingBox();
      assert.ok(box && box.width > 150 && box.height > 100, `figure ${id}: ${JSON.stringify(box)}`);
    }
    // Worst and random rows: 6 queries each, a query cell and 8 neighbours per row, every thumbnail decoded.
    assert.equal(await page.locator('.grid-row').count(), 12);
    assert.equal(await page.locator('.grid-row .cell').count(), 12 * 9);
    assert.ok((await page.locator('.cell.hit').count()) + (await page.locator('.cell.miss').count()) === 12 * 8);
    const undecoded = await page.evaluate(() => [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).length);
    assert.equal(undecoded, 0);
    assert.equal(await page.locator('#test-table tbody tr').count(), 6); // P@1, R@2, R@4, R@8, R-Precision, MAP@R
    assert.equal(await page.locator('#projection-table tbody tr').count(), r.ccpProjections.length);
    const shot = join(tmp, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000, 'screenshot written');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
