// The MLRC protocol on Omniglot-format zips (generated, 16 training classes): four fold models, each validating on a
// different quarter of the training classes, then 128D (mean) and 512D (concatenated) test metrics.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig } from '../../src/training/config.js';
import { trainMlrc } from '../../src/training/mlrc.js';
import { runReportCallback, mlrcReportCallback } from '../../src/report/index.js';
import { tempDir } from '../helpers/tmp.js';
import { omniglotFixture } from '../helpers/omniglot.js';

test('MLRC: 4 fold models x 2 repeats, 128D and 512D ensembles with mean/std', { timeout: 600_000 }, async () => {
  const out = tempDir('mlrc');
  const cfg = parseRunConfig({
    name: 'mlrc',
    seed: 5,
    outputDir: out,
    dataset: { name: 'omniglot', root: await omniglotFixture(), imageSize: 28, channels: 1, validation: 'classes', maxClasses: 16, maxPerClass: 10 },
    model: { name: 'small_cnn', embeddingDim: 8, options: { channels: [8, 16] } },
    loss: { name: 'ccp/contrastive' },
    ccp: { proxiesPerClass: 2, poolSize: 3 },
    optimizer: { lr: 2e-3 },
    training: { classesPerBatch: 4, samplesPerClass: 2, stepsPerEpoch: 4, maxEpochs: 2, earlyStopPatience: 5, evalBatchSize: 64 },
  });
  const reports = { callbacks: [runReportCallback()], protocolCallbacks: [mlrcReportCallback()] };
  const r = await trainMlrc(cfg, { repeats: 2, quiet: true, ...reports });
  assert.equal(r.runs.length, 8);
  assert.deepEqual(
    r.runs.map((x) => [x.repeat, x.fold]),
    [0, 1].flatMap((rep) => [1, 2, 3, 4].map((f) => [rep, f])),
  );
  // Each fold model validates on a different quarter of the 16 training classes (4 each) and trains on 12.
  const valClasses = new Set<string>();
  for (const run of r.runs.filter((x) => x.repeat === 0)) {
    const c = JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8'));
    assert.equal(c.dataset.fold, run.fold - 1);
    valClasses.add(String(c.dataset.fold));
  }
  assert.equal(valClasses.size, 4);
  // 2 repeats per fold model: 2^4 combinations.
  assert.equal(r.ensemble.combinations, 16);
  for (const side of ['separated', 'concatenated'] as const) {
    const m = r.ensemble[side].mapAtR!;
    assert.ok(m.mean > 0 && m.mean <= 1 && m.std >= 0 && m.best >= m.worst, `${side}: ${JSON.stringify(m)}`);
  }
  assert.match(r.report, /32D \(concatenated\)/);
  assert.match(r.report, /8D \(separated\)/);
  const saved = JSON.parse(readFileSync(join(out, 'mlrc', 'mlrc-results.json'), 'utf8'));
  assert.equal(saved.runs.length, 8);
  // Every fold model has its run report; the protocol folder has the summary, linking to each of them.
  for (const run of r.runs) assert.ok(existsSync(join(run.runDir, 'report.html')), `${run.runDir}/report.html`);
  assert.equal(r.reportPath, join(out, 'mlrc', 'report.html'));
  const summary = readFileSync(r.reportPath!, 'utf8');
  assert.match(summary, /id="fold-table"/);
  assert.match(summary, /32D \(concatenated\)/);
  assert.equal(summary.match(/href="repeat-\d\/fold-\d\/report.html"/g)?.length, 8);

  // Resume: every fold finished, so nothing trains again and the ensemble is recomputed from the saved weights.
  const again = await trainMlrc(cfg, { repeats: 2, quiet: true, resume: true, ...reports });
  assert.deepEqual(again.ensemble.concatenated.mapAtR, r.ensemble.concatenated.mapAtR);
  assert.deepEqual(again.ensemble.separated.mapAtR, r.ensemble.separated.mapAtR);
});
