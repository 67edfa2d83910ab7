// bench:proxy-cover: which sweep runs it repeats, and its summary of the cover diagnostics (hand-computed).
import test from 'node:test';
import assert from 'node:assert/strict';
import { COVER_RUNS, coverJobs, coverMarkdown, coverRow } from '../../bench/ccp/proxy-cover.js';
import type { RunRecord } from '../../bench/ccp/study.js';

test("proxy-cover repeats the sweep's own jobs (same config, seed 0) for each listed run", () => {
  const jobs = coverJobs('/nonexistent/regimes');
  assert.deepEqual(
    jobs.map((j) => `${j.block}|${j.method.id}|${j.seed}`),
    COVER_RUNS.map((r) => `${r.block}|${r.method}|0`),
  );
  const off = jobs.find((j) => j.block === 'ablation-a/no-projection')!;
  assert.equal(off.settings.ccp.projections, false);
  assert.equal(jobs.find((j) => j.block === 'ablation-a/no-projection-lr100')!.settings.ccpProxyLrMultiplier, 100);
});

test('proxy-cover summary: means over the problem ends, first and last, and the sweep record beside the rerun', () => {
  const [onJob, offJob] = coverJobs('/nonexistent/regimes');
  const record = (mapAtR: number, projections: RunRecord['projections']) => ({ final: { mapAtR }, projections }) as unknown as RunRecord;
  const on = record(0.3462, [
    { epoch: 3, step: 150, t: 1, coveringRadiusBefore: 0.9, proxySpreadBefore: 0.2, coveringRadius: 0.5, proxySpread: 0.6 },
    { epoch: 9, step: 450, t: 2, coveringRadiusBefore: 0.7, proxySpreadBefore: 0.4, coveringRadius: 0.3, proxySpread: 0.5 },
  ]);
  const row = coverRow(onJob!, on, record(0.3462, []));
  assert.equal(row.projections, 2);
  assert.equal(row.replaced, true);
  assert.ok(Math.abs(row.radiusBefore! - 0.8) < 1e-12 && Math.abs(row.radiusAfter! - 0.4) < 1e-12 && Math.abs(row.spreadBefore! - 0.3) < 1e-12);
  assert.deepEqual([row.radiusBeforeFirst, row.radiusBeforeLast], [0.9, 0.7]);
  const off = coverRow(offJob!, record(0.1384, [{ epoch: 3, step: 150, t: 1, coveringRadiusBefore: 1.2, proxySpreadBefore: 0.1 }]), null);
  assert.equal(off.replaced, false);
  assert.equal(off.radiusAfter, null);
  const md = coverMarkdown([row, off], 0, new Date('2026-12-03T00:00:00Z'));
  assert.match(md, /\| \(a\) C2-CCP \| 34\.62 \| 34\.62 \| 2 \| yes \| 0\.800 \(0\.900 → 0\.700\) \| 0\.400 \| 0\.300 \|/);
  assert.match(md, /\| \(a\) projections off \(proxies never re-placed\) \| 13\.84 \| no record \| 1 \| no \| 1\.200 \(1\.200 → 1\.200\) \| – \| 0\.100 \|/);
  // Records made before the diagnostic existed: no numbers, no crash.
  assert.equal(coverRow(onJob!, record(0.3, [{ epoch: 3, step: 150, t: 1 }]), null).radiusBefore, null);
});
