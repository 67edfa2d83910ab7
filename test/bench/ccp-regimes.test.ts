// The regime sweep (bench/ccp/regimes-main.ts, issue 13): the study's regime options (global early stopping, a
// backbone file, frozen BN, CCP options), record matching that survives new config keys, the job list, the import
// of an existing study's records, the report with cells not run yet, and a tiny sweep that stops at its deadline and
// resumes from its records.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../bench/ccp/main.js';
import { plannedRun, resumableEpoch, runConfig, sameRunConfig, savedRecord, type RunRecord } from '../../bench/ccp/study.js';
import { train } from '../../src/training/trainer.js';
import { sweepJobs, type SweepJob } from '../../bench/ccp/regime-jobs.js';
import { importStudyRecords, settingsMismatch } from '../../bench/ccp/regime-import.js';
import { archivedPath, archiveRecords, restoreRecords } from '../../bench/ccp/regime-archive.js';
import { projectionEffect } from '../../bench/ccp/regime-summary.js';
import { lockRun } from '../../bench/ccp/run-lock.js';
import { spawnSync } from 'node:child_process';
import { buildReport, markdownRegimes } from '../../bench/ccp/regime-report.js';
import { jobSeconds, SpeedFactor } from '../../bench/ccp/regime-cost.js';
import { jobDone, runSweep } from '../../bench/ccp/regime-sweep.js';
import { parseRegimesArgs, parseStopAt, reportJobs } from '../../bench/ccp/regimes-main.js';
import { regimes, ABLATION_VARIANTS } from '../../bench/ccp/regimes.js';
import { loadOmniglotStudyData, studyRunData } from '../../bench/ccp/omniglot-data.js';
import { tempDir } from '../helpers/tmp.js';
import { omniglotFixture } from '../helpers/omniglot.js';

const tmp = tempDir('regimes');

test('study flags: global early stopping, a backbone file, frozen BN and CCP options reach the run config', () => {
  const weights = join(tmp, 'backbone.safetensors');
  writeFileSync(weights, 'x');
  const s = parseArgs(['--early-stop', '60', '--pretrained', weights, '--freeze-bn', '--ccp', 'batchWeight=0,laggedMetric=true', '--lrs', '1e-5']).settings;
  assert.deepEqual(s.pretrained, { file: weights });
  s.pretrainedFile = weights;
  const cfg = runConfig(s, s.methods[4]!, 0, s.lrGrid[0]!, s.budget, 'x');
  assert.equal(cfg.training.earlyStopPatience, 60);
  assert.equal(cfg.model.freezeBatchNorm, true);
  assert.equal(cfg.model.pretrained, weights);
  assert.equal(cfg.ccp.batchWeight, 0);
  assert.equal(cfg.ccp.laggedMetric, true);
  assert.equal(cfg.ccp.proxiesPerClass, 4, 'the study K stays');
  assert.equal(cfg.optimizer.lr, 1e-5);
  // Without the flags: no early stopping (the budget decides), BN trained, the CCP defaults.
  const d = runConfig(parseArgs([]).settings, s.methods[4]!, 0, 1e-3, s.budget, 'x');
  assert.equal(d.training.earlyStopPatience, 100_000);
  assert.equal(d.model.freezeBatchNorm, false);
  assert.equal(d.ccp.batchWeight, 0.1);
  assert.throws(
    () => parseArgs(['--pretrained', join(tmp, 'nope.safetensors')]),
    /--pretrained: expected 'none', 'mnist' or an existing backbone weights file, got '.*nope.safetensors' \(no such file\)/,
  );
  assert.deepEqual(parseArgs(['--ccp', 'poolPreprocessing=test,projections=false']).settings.ccp.poolPreprocessing, 'test');
  assert.throws(() => parseArgs(['--ccp', 'poolPreprocessing=val']), /--ccp: .*poolPreprocessing/);
  assert.throws(() => parseArgs(['--ccp', 'frobnicate=1']), /--ccp: .*frobnicate/);
  assert.throws(() => parseArgs(['--ccp', 'batchWeight=-1']), /--ccp: .*batchWeight/);
  assert.throws(() => parseArgs(['--ccp', 'batchWeight']), /--ccp: expected key=value pairs/);
  assert.throws(() => parseArgs(['--early-stop', '0']), /--early-stop: expected a positive integer/);
});

test('a saved record matches its config after a round trip, and still after the schema gains a defaulted key', () => {
  const s = parseArgs([]).settings;
  const cfg = runConfig(s, s.methods[4]!, 1, 1e-3, s.budget, 'x');
  const saved = JSON.parse(JSON.stringify(cfg));
  assert.equal(sameRunConfig(saved, cfg), true);
  // An older record without a key that has a default now (as a CCP option added later).
  delete saved.ccp.laggedMetric;
  assert.equal(sameRunConfig(saved, cfg), true);
  assert.equal(sameRunConfig({ ...saved, seed: 2 }, cfg), false);
  assert.equal(sameRunConfig({ ...saved, unknownKey: 1 }, cfg), false, 'a key the schema does not know is another run');
});

test("a record made with the study's MNIST backbone still matches after the runs folder moved; another file does not", () => {
  const s = parseArgs([]).settings;
  const at = (file: string) => ({ ...s, pretrainedFile: file });
  const cfg = runConfig(at('/new/place/mnist-backbone-16-32-64.safetensors'), s.methods[4]!, 1, 1e-3, s.budget, 'x');
  const moved = runConfig(at('/old/worktree/mnist-backbone-16-32-64.safetensors'), s.methods[4]!, 1, 1e-3, s.budget, 'x');
  assert.equal(sameRunConfig(JSON.parse(JSON.stringify(moved)), cfg), true);
  const otherWidths = runConfig(at('/new/place/mnist-backbone-8-16-32.safetensors'), s.methods[4]!, 1, 1e-3, s.budget, 'x');
  assert.equal(sameRunConfig(JSON.parse(JSON.stringify(otherWidths)), cfg), false);
  const user = (dir: string) => runConfig(at(`${dir}/my-backbone.safetensors`), s.methods[4]!, 1, 1e-3, s.budget, 'x');
  assert.equal(sameRunConfig(JSON.parse(JSON.stringify(user('/a'))), user('/b')), false, 'a user file is compared by its path');
});

test('the sweep plan: every regime and ablation cell, seed by seed, (b) last; blocked variants named', () => {
  const jobs = sweepJobs(join(tmp, 'plan'), { seeds: [0, 1, 2] });
  assert.equal(jobs.length, 4 * 8 * 3 + 2 * ABLATION_VARIANTS.length * 3);
  assert.deepEqual([...new Set(jobs.filter((j) => j.seed === 0).map((j) => j.block.split('/')[0]))], ['a', 'a0', 'c', 'ablation-a', 'ablation-a0', 'b']);
  assert.ok(jobs.findIndex((j) => j.seed === 1) > jobs.map((j) => j.seed).lastIndexOf(0), 'seed 0 of every cell first');
  const b = jobs.find((j) => j.block === 'b')!;
  assert.equal(b.lr, 1e-5);
  assert.equal(b.settings.earlyStopPatience, 60);
  assert.equal(b.settings.stepsPerEpoch, 25);
  assert.equal(b.settings.ccp.patience, 3);
  const k1 = jobs.find((j) => j.block === 'ablation-a/k1b1')!;
  assert.equal(k1.settings.ccp.proxiesPerClass, 1);
  assert.equal(k1.settings.ccp.poolSize, 1);
  assert.equal(k1.method.id, 'c2-ccp');
  assert.equal(k1.lr, regimes()[0]!.lrs['c2-ccp']);
  assert.equal(k1.blocked, undefined);
  // The proxy-LR variant reaches the optimiser of its C2-CCP run only; every other run keeps the loss's own.
  const configOf = (j: SweepJob) => plannedRun(j.settings, j.method, 'test', j.seed, j.lr, j.runsDir).cfg;
  const fast = jobs.find((j) => j.block === 'ablation-a/no-projection-lr100')!;
  assert.equal(configOf(fast).optimizer.proxyLrMultiplier, 100);
  assert.equal(configOf(fast).ccp.projections, false);
  assert.equal(configOf(k1).optimizer.proxyLrMultiplier, undefined);
  assert.equal(configOf(jobs.find((j) => j.block === 'c' && j.method.id === 'c2')!).optimizer.proxyLrMultiplier, undefined);
  // Only some blocks.
  assert.deepEqual([...new Set(sweepJobs(tmp, { seeds: [0], only: ['c'] }).map((j) => j.block))], ['c']);
  // A predicted time grows with the step cap; the speed factor is measured / predicted.
  assert.ok(jobSeconds(b, {}) > jobSeconds(jobs.find((j) => j.block === 'c')!, {}));
  const f = new SpeedFactor();
  assert.equal(f.value, 1);
  f.add(30, 10);
  assert.equal(f.value, 3);
});

function fakeRecord(job: SweepJob, mapAtR: number): RunRecord {
  return {
    method: job.method.id,
    label: job.method.label,
    loss: job.method.loss,
    purpose: 'test',
    seed: job.seed,
    lr: job.lr,
    steps: 3000,
    epochs: 60,
    bestEpoch: 50,
    stopReason: 'max-epochs',
    bestValMapAtR: 0.5,
    final: { precisionAt1: 0.6, rPrecision: 0.4, mapAtR, numQueries: 10 },
    projections: job.method.kind === 'ccp' ? [{ epoch: 5, step: 250, t: 1 }] : [],
    curve: [{ epoch: 50, step: 2500, valMapAtR: 0.5, seconds: 1, projected: false }],
    trainSeconds: 1,
    wallSeconds: 2,
    runDir: 'x',
  };
}

test("regime (a0) imports a study's test records when its settings match, and only then", () => {
  const root = join(tmp, 'import');
  const jobs = sweepJobs(root, { seeds: [0, 1], only: ['a0'] });
  const study = join(tmp, 'study.json');
  const settings = { ...jobs[0]!.settings };
  delete settings.pretrained; // older results.json files: no key = from scratch
  const runs = jobs.slice(0, 3).map((j, k) => fakeRecord(j, 0.2 + k / 100));
  writeFileSync(study, JSON.stringify({ settings, runs }));
  assert.deepEqual(importStudyRecords(study, jobs), { imported: 3, present: 0, missing: jobs.length - 3 });
  const r = jobDone(jobs[1]!);
  assert.ok(Math.abs(r!.final.mapAtR - 0.21) < 1e-12);
  assert.deepEqual(importStudyRecords(study, jobs), { imported: 0, present: 3, missing: jobs.length - 3 });
  writeFileSync(study, JSON.stringify({ settings: { ...settings, budget: { kind: 'steps', value: 999 } }, runs }));
  const other = sweepJobs(join(tmp, 'import2'), { seeds: [0], only: ['a0'] });
  assert.match(importStudyRecords(study, other).mismatch!, /^budget: /);
  assert.equal(jobDone(other[0]!), null);
  assert.match(settingsMismatch({ ...settings, pretrained: 'mnist' }, jobs[0]!.settings), /pretrained: "mnist" vs "none"/);
});

test('a new checkout restores the archived records instead of training them again, and only for the same config', () => {
  const jobs = sweepJobs(join(tmp, 'archive-runs'), { seeds: [0], only: ['c', 'ablation'] });
  const archive = join(tmp, 'archive');
  // Two finished jobs in the run folders (one of them imported from a study, which the archive leaves out).
  const write = (j: SweepJob, record: RunRecord) => {
    const { cfg, recordPath } = plannedRun(j.settings, j.method, 'test', j.seed, j.lr, j.runsDir);
    mkdirSync(join(recordPath, '..'), { recursive: true });
    writeFileSync(recordPath, JSON.stringify({ config: cfg, record }));
  };
  const [c1, c2] = jobs;
  const ablation = jobs.find((j) => j.block === 'ablation-a/k1b1')!;
  write(c1!, fakeRecord(c1!, 0.25));
  write(ablation, fakeRecord(ablation, 0.31));
  write(c2!, { ...fakeRecord(c2!, 0.2), importedFrom: 'study.json' } as RunRecord);
  assert.deepEqual(archiveRecords(archive, jobs), { copied: 2, present: 0 });
  assert.deepEqual(archiveRecords(archive, jobs), { copied: 0, present: 2 });
  assert.ok(archivedPath(archive, ablation).startsWith(join(archive, 'ablation-a', 'k1b1')), archivedPath(archive, ablation));
  // The same jobs in a fresh checkout (another runs folder): both come back, marked with where they came from.
  const fresh = sweepJobs(join(tmp, 'archive-fresh'), { seeds: [0], only: ['c', 'ablation'] });
  assert.equal(jobDone(fresh[0]!), null);
  assert.deepEqual(restoreRecords(archive, fresh), { copied: 2, present: 0 });
  const back = jobDone(fresh[0]!) as RunRecord & { restoredFrom?: string };
  assert.ok(Math.abs(back.final.mapAtR - 0.25) < 1e-12);
  assert.equal(back.restoredFrom, archivedPath(archive, fresh[0]!));
  assert.ok(jobDone(fresh.find((j) => j.block === 'ablation-a/k1b1')!));
  assert.equal(jobDone(fresh[1]!), null, 'the imported record was not archived');
  assert.deepEqual(restoreRecords(archive, fresh), { copied: 0, present: 2 }, 'a second start restores nothing');
  // A job whose config changed (another step cap) does not take the archived record.
  const changed = fresh.map((j) => ({
    ...j,
    runsDir: join(tmp, 'archive-changed'),
    settings: { ...j.settings, budget: { kind: 'steps' as const, value: 5000 } },
  }));
  assert.deepEqual(restoreRecords(archive, changed), { copied: 0, present: 0 });
  assert.equal(jobDone(changed[0]!), null);
});

test('the report shows partial cells, Δ per loss and the ablation rows', () => {
  const jobs = sweepJobs(join(tmp, 'report'), { seeds: [0, 1, 2] });
  const values: Record<string, number> = { c2: 0.3, 'c2-ccp': 0.34 };
  // (a): C2 and C2-CCP have all three seeds; (c): C2-CCP only seed 0; an ablation cell two seeds.
  const lookup = (j: SweepJob): RunRecord | null => {
    if (j.block === 'a' && values[j.method.id] !== undefined) return fakeRecord(j, values[j.method.id]! + j.seed / 100);
    if (j.block === 'c' && j.method.id === 'c2-ccp' && j.seed === 0) return fakeRecord(j, 0.25);
    if (j.block === 'ablation-a/batch0' && j.seed < 2) return fakeRecord(j, 0.33);
    return null;
  };
  const rep = buildReport(jobs, lookup, new Date('2026-12-02T00:00:00Z'));
  const a = rep.regimes.find((r) => r.id === 'a')!;
  assert.equal(a.cells.c2!.done, 3);
  assert.ok(Math.abs(a.deltas.c2!.points! - 4) < 1e-9);
  assert.equal(a.deltas.c2!.paired!.n, 3);
  assert.ok(Math.abs(a.deltas.c2!.paired!.std!) < 1e-9, 'same per-seed offsets: paired std 0');
  assert.equal(a.deltas.c1!.points, null);
  const md = markdownRegimes(rep, 'npm run bench:regimes');
  assert.match(md, /\| C2 \| 1e-3 \/ 1e-3 \| 31.00 ± 1.00 \| 35.00 ± 1.00 \| \+4.00 \(paired \+4.00 ± 0.00, n 3\) \| 1.0 \|/);
  assert.match(md, /\| C2 \| 1e-4 \/ 1e-4 \| not run \| 25.00 \(1\/3 seeds\) \| – \|/);
  assert.match(md, /\| in-batch term weight 0 \(default 0.1\) \| 33.00 ± 0.00 \(2\/3 seeds\) \| −2.00 \(paired −1.50 ± 0.71, n 2\) \|/);
  assert.match(md, /## Cut to fit the time budget\n\n- /);
  assert.match(md, /\| \(a\) today[^|]*\| – \| \+4.00/);
  assert.doesNotMatch(md, /## Progress/);
  const plan = [{ block: 'c', runs: 24, done: 1, blocked: 0, secondsLeft: 600 }];
  const withPlan = markdownRegimes(buildReport(jobs, lookup, new Date(), plan), 'x');
  assert.match(withPlan, /## Progress[\s\S]*\| c \| 24 \| 1 \| 0 \| 10 \|/);
});

test('a tiny sweep starts nothing after its deadline, continues a killed run from its checkpoint and reuses its records', { timeout: 180_000 }, async () => {
  const root = join(tmp, 'sweep');
  mkdirSync(root, { recursive: true });
  const data = await loadOmniglotStudyData({ root: await omniglotFixture(), size: 28 });
  const [c] = sweepJobs(root, { seeds: [0], only: ['c'] });
  const tiny = {
    ...c!.settings,
    budget: { kind: 'steps' as const, value: 8 },
    stepsPerEpoch: 4,
    earlyStopPatience: 1,
    channels: [8, 16],
    embeddingDim: 16,
    maxValidationSamples: 60,
    pretrained: 'none' as const,
  };
  delete tiny.pretrainedFile;
  const jobs = sweepJobs(root, { seeds: [0], only: ['c'] })
    .filter((j) => j.method.id.startsWith('c2'))
    .map((j) => ({ ...j, settings: { ...tiny, ccp: { ...tiny.ccp, patience: 1 } } }));
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  const late = await runSweep({ jobs, data, root, perStep: {}, stopAt: new Date(Date.now() - 1000), log });
  assert.deepEqual(late, { trained: 0, reused: 0, blocked: 0, left: 2, stoppedBy: 'deadline' });
  // The first run was killed after its first epoch (a sweep that exited at its deadline): it continues from there.
  const first = plannedRun(jobs[0]!.settings, jobs[0]!.method, 'test', 0, jobs[0]!.lr, jobs[0]!.runsDir);
  const partial = await train(first.cfg, { runDir: first.runDir, quiet: true, data: studyRunData(data), stopAfterEpochs: 1 });
  assert.equal(partial.stopReason, 'interrupted');
  assert.equal(resumableEpoch(first.runDir, first.cfg), 1);
  assert.equal(resumableEpoch(first.runDir, { ...first.cfg, seed: 9 }), null, 'another config starts afresh');
  let reports = 0;
  const done = await runSweep({ jobs, data, root, perStep: {}, log, afterJob: () => void reports++ });
  assert.deepEqual(done, { trained: 2, reused: 0, blocked: 0, left: 0, stoppedBy: 'done' });
  assert.equal(reports, 2);
  for (const j of jobs) {
    const { recordPath, cfg } = plannedRun(j.settings, j.method, 'test', j.seed, j.lr, j.runsDir);
    assert.ok(existsSync(recordPath));
    const r = savedRecord(recordPath, cfg)!;
    assert.equal(r.lr, 1e-4);
    assert.ok(r.steps <= 8 && r.steps >= 4, `${r.steps} steps`);
    assert.equal(r.resumedFromEpoch, j === jobs[0] ? 1 : undefined);
    if (j === jobs[0]) assert.equal(r.curve[0]!.epoch, 1, "the killed invocation's epoch is in the curve");
  }
  const again = await runSweep({ jobs, data, root, perStep: {}, log });
  assert.deepEqual(again, { trained: 0, reused: 2, blocked: 0, left: 0, stoppedBy: 'done' });
  assert.ok(
    lines.some((l) => /stopping before c C2 seed 0/.test(l)),
    lines.join('\n'),
  );
});

test('bench:regimes options', () => {
  assert.equal(parseStopAt('17:45', new Date('2026-12-02T16:00:00Z')).toISOString(), '2026-12-02T17:45:00.000Z');
  assert.throws(() => parseStopAt('soon'), /--stop-at: expected HH:MM/);
  assert.deepEqual(parseRegimesArgs(['--only', 'b,ablation', '--seeds', '2']).only, ['b', 'ablation']);
  assert.deepEqual(parseRegimesArgs(['--seeds', '2']).seeds, [0, 1]);
  assert.deepEqual(parseRegimesArgs(['--seeds', '2,']).seeds, [2], 'a list of one, not seeds 2 and 0');
  assert.deepEqual(parseRegimesArgs(['--seed', '2']).seeds, [2]);
  assert.throws(() => parseRegimesArgs(['--seeds', '1,x']), /--seeds: expected a count or a list of seeds, got '1,x'/);
  assert.throws(() => parseRegimesArgs(['--seeds', 'two']), /--seeds: expected a count/);
  assert.throws(() => parseRegimesArgs(['--seed', '-1']), /--seed: expected one seed/);
  assert.match(parseRegimesArgs([]).archive, /results\/ccp\/regime-records$/);
  assert.throws(() => parseRegimesArgs(['--seeds']), /--seeds: missing value/);
  assert.throws(() => parseArgs(['--lrs']), /--lrs: missing value/);
  assert.equal(parseRegimesArgs(['--plan']).mode, 'plan');
  assert.throws(() => parseRegimesArgs(['--only', 'z']), /--only: unknown block\(s\) z/);
  assert.throws(() => parseRegimesArgs(['--bogus']), /unknown option '--bogus'/);
});

test('bench:regimes: a share of the sweep (--only, --seeds) still reports the whole plan', () => {
  const share = parseRegimesArgs(['--only', 'b', '--seeds', '2', '--runs', '/nonexistent/regimes']);
  const full = reportJobs(share);
  const blocks = new Set(full.map((j) => j.block));
  for (const b of ['a', 'a0', 'b', 'c', 'ablation-a/no-projection', 'ablation-a0/batch0']) assert.ok(blocks.has(b), `block ${b} missing`);
  assert.deepEqual([...new Set(full.map((j) => j.seed))].sort(), [0, 1, 2]);
  // Seeds beyond the plan are added, never dropped.
  const more = reportJobs(parseRegimesArgs(['--seeds', '0,4', '--runs', '/nonexistent/regimes']));
  assert.deepEqual([...new Set(more.map((j) => j.seed))].sort(), [0, 1, 2, 4]);
  assert.equal(more.length, (full.length / 3) * 4);
});

test('regime report: the change of validation MAP@R after a projection, against after other epochs (hand-computed)', () => {
  const point = (epoch: number, valMapAtR: number, projected = false) => ({ epoch, step: 10 * epoch, valMapAtR, seconds: epoch, projected });
  const run = { curve: [point(1, 0.1), point(2, 0.12, true), point(3, 0.15), point(4, 0.2), point(5, 0.18)] } as RunRecord;
  const e = projectionEffect([run], 2)!;
  // i = 1 (projected): 20 − 12 = +8; elsewhere i = 0: 15 − 10 = +5, i = 2: 18 − 15 = +3 (i = 3, 4 lack 2 later points).
  assert.equal(e.after.n, 1);
  assert.ok(Math.abs(e.after.mean - 8) < 1e-9, String(e.after.mean));
  assert.equal(e.elsewhere!.n, 2);
  assert.ok(Math.abs(e.elsewhere!.mean - 4) < 1e-9, String(e.elsewhere!.mean));
  assert.equal(projectionEffect([{ curve: [point(1, 0.1), point(2, 0.2), point(3, 0.3)] } as RunRecord]), null, 'no projection: no effect');
  // A projection too close to the end to have 2 later validations counts nowhere.
  assert.equal(projectionEffect([{ curve: [point(1, 0.1), point(2, 0.2, true), point(3, 0.3)] } as RunRecord]), null);
});

test('ablation: the pool-preprocessing pair trains with augmentation on the in-memory Omniglot and embeds the pool as asked', {
  timeout: 120_000,
}, async () => {
  const root = join(tmp, 'augment');
  const data = await loadOmniglotStudyData({ root: await omniglotFixture(), size: 28 });
  const pair = sweepJobs(root, { seeds: [0], only: ['ablation'] }).filter((j) => j.block.startsWith('ablation-a0/augment'));
  assert.deepEqual(
    pair.map((j) => j.block),
    ['ablation-a0/augment', 'ablation-a0/augment-pool-test'],
  );
  const jobs = pair.map((j) => ({
    ...j,
    settings: { ...j.settings, budget: { kind: 'steps' as const, value: 8 }, stepsPerEpoch: 4, channels: [8, 16], embeddingDim: 16, maxValidationSamples: 60 },
  }));
  const cfgs = jobs.map((j) => plannedRun(j.settings, j.method, 'test', 0, j.lr, j.runsDir).cfg);
  for (const c of cfgs) {
    assert.equal(c.dataset.augment, true);
    assert.equal(c.dataset.resizeTo, 28, 'evaluation keeps the study preprocessing');
  }
  assert.deepEqual(
    cfgs.map((c) => c.ccp.poolPreprocessing),
    ['train', 'test'],
  );
  const res = await runSweep({ jobs, data, root, perStep: {}, log: () => {} });
  assert.equal(res.trained, 2);
  for (const j of jobs) assert.ok(Number.isFinite(jobDone(j)!.final.mapAtR));
});

test("run lock: a live owner keeps it, a dead owner's lock is taken over, and the sweep leaves a locked job to its owner", async () => {
  const dir = join(tmp, 'locks');
  mkdirSync(dir, { recursive: true });
  const run = join(dir, 'c2-test-lr1e-4-seed0');
  const mine = lockRun(run);
  assert.equal(mine.acquired, true);
  const other = lockRun(run, process.pid + 1);
  assert.deepEqual(other, { acquired: false, owner: process.pid }, 'held by this (live) process');
  if (mine.acquired) mine.release();
  assert.equal(existsSync(`${run}.lock`), false);
  // A lock left by a process that is gone (killed -9 mid-run) is stale.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(`${run}.lock`, dead.stdout);
  const again = lockRun(run);
  assert.equal(again.acquired, true);
  if (again.acquired) again.release();

  // The sweep: both jobs locked by another live process (our parent) → nothing trained, both left to it.
  const data = await loadOmniglotStudyData({ root: await omniglotFixture(), size: 28 });
  const root = join(dir, 'sweep');
  const jobs = sweepJobs(root, { seeds: [0], only: ['c'] })
    .filter((j) => j.method.id.startsWith('c2'))
    .map((j) => ({ ...j, settings: { ...j.settings, pretrained: 'none' as const } }));
  for (const j of jobs) {
    const { runDir } = plannedRun(j.settings, j.method, 'test', j.seed, j.lr, j.runsDir);
    mkdirSync(join(runDir, '..'), { recursive: true });
    writeFileSync(`${runDir}.lock`, String(process.ppid));
  }
  const lines: string[] = [];
  const res = await runSweep({ jobs, data, root, perStep: {}, log: (l) => lines.push(l) });
  assert.deepEqual(res, { trained: 0, reused: 0, blocked: 0, left: 0, stoppedBy: 'done', elsewhere: 2 });
  assert.ok(
    lines.some((l) => new RegExp(`being trained by process ${process.ppid}, left to it`).test(l)),
    lines.join('\n'),
  );
});
