// The bf16-vs-float32 parity table: records read from the run folders, mean ± std per side, the parity rule
// (within the float32 spread and 0.5 points), "incomplete" while seeds are missing, the paired difference, and
// the records of methods not re-run kept from the previous parity.json.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main, mergeRecords, parityRows } from '../../bench/ccp/precision-parity.js';
import type { RunRecord } from '../../bench/ccp/study.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('parity');

function rec(method: string, seed: number, mapAtR: number, purpose: 'test' | 'tune' = 'test'): RunRecord {
  return {
    method,
    label: method.toUpperCase(),
    loss: method,
    purpose,
    seed,
    lr: 1e-3,
    steps: 10,
    epochs: 1,
    bestEpoch: 1,
    stopReason: 'maxEpochs',
    bestValMapAtR: 0,
    final: { precisionAt1: 0, rPrecision: 0, mapAtR, numQueries: 1 },
    projections: [],
    curve: [],
    trainSeconds: 1,
    wallSeconds: 1,
    runDir: '',
  };
}

test('parity: within the float32 spread and 0.5 points; incomplete while seeds are missing', () => {
  const rows = parityRows({
    fp32: [rec('c2', 0, 0.3), rec('c2', 1, 0.32), rec('c2', 2, 0.34), rec('ms', 0, 0.3), rec('ms', 1, 0.301), rec('mx', 0, 0.3), rec('mx', 1, 0.3)],
    bf16: [rec('c2', 0, 0.31), rec('c2', 1, 0.325), rec('c2', 2, 0.335), rec('ms', 0, 0.33), rec('ms', 1, 0.331), rec('mx', 0, 0.3)],
  });
  const by = Object.fromEntries(rows.map((r) => [r.method, r]));
  assert.equal(by.c2!.parity, 'yes');
  assert.ok(Math.abs(by.c2!.byPrecision.fp32.mean - 32) < 1e-9);
  assert.ok(Math.abs(by.c2!.byPrecision.fp32.std - 2) < 1e-9);
  assert.ok(Math.abs(by.c2!.delta - (32.333333333 - 32)) < 1e-6);
  assert.equal(by.ms!.parity, 'no', '3 points off');
  assert.deepEqual([by.ms!.withinSpread, by.ms!.withinHalfPoint], [false, false]);
  assert.deepEqual([by.c2!.withinSpread, by.c2!.withinHalfPoint], [true, true]);
  assert.equal(by.mx!.parity, 'incomplete', 'bf16 has one seed of two');
});

test('main reads test records (not LR-search ones) from runs/<precision> and writes parity.md / parity.json', () => {
  const put = (p: string, r: RunRecord) => {
    const d = join(tmp, 'runs', p, r.method, `${r.method}-${r.purpose}-seed${r.seed}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'study-record.json'), JSON.stringify({ config: {}, record: r }));
  };
  put('fp32', rec('c2', 0, 0.3));
  put('fp32', rec('c2', 100, 0.9, 'tune'));
  put('bf16', rec('c2', 0, 0.31));
  const files = main(['--dir', tmp]);
  const md = readFileSync(files.markdown, 'utf8');
  assert.match(md, /^\| C2 \| 30\.00 ± – \| 31\.00 ± – \| 0 \/ 0 \| 1\.00 \| 1\.00 ± – \(1\) \| no \| no \| incomplete \|$/m);
  const json = JSON.parse(readFileSync(files.json, 'utf8'));
  assert.equal(json.records.fp32.length, 1, 'the LR-search record is left out');
  // A second generation keeps the table's records of methods without run folders (MS here), and C2's seed 1,
  // since C2's re-run seed 0 reproduced the table's value exactly.
  json.records.fp32.push(rec('ms', 0, 0.4), rec('c2', 1, 0.5));
  json.records.bf16.push(rec('ms', 0, 0.41));
  writeFileSync(files.json, JSON.stringify(json));
  const again = JSON.parse(readFileSync(main(['--dir', tmp]).json, 'utf8'));
  assert.deepEqual(
    again.records.fp32.map((r: RunRecord) => `${r.method}:${r.seed}`),
    ['c2:0', 'c2:1', 'ms:0'],
  );
  assert.deepEqual(
    again.rows.map((r: { method: string }) => r.method),
    ['c2', 'ms'],
  );
});

test('paired difference: bf16 − float32 per shared seed, mean ± standard error; mergeRecords never mixes studies in a method', () => {
  const [row] = parityRows({
    fp32: [rec('c2', 0, 0.3), rec('c2', 1, 0.32), rec('c2', 2, 0.34), rec('c2', 3, 0.5)],
    bf16: [rec('c2', 0, 0.31), rec('c2', 1, 0.32), rec('c2', 2, 0.32)],
  });
  // differences +1, 0, -2 points over seeds 0-2 (seed 3 has no bf16 run)
  assert.equal(row!.paired.n, 3);
  assert.ok(Math.abs(row!.paired.mean - -1 / 3) < 1e-9);
  assert.ok(Math.abs(row!.paired.se - Math.sqrt(7 / 3) / Math.sqrt(3)) < 1e-9);
  const tags = (rs: RunRecord[]) => rs.map((r) => `${r.method}:${r.seed}`);
  const previous = { fp32: [rec('c2', 0, 0.1), rec('c2', 1, 0.2), rec('ms', 0, 0.3)], bf16: [rec('c2', 0, 0.1), rec('c2', 1, 0.2), rec('ms', 0, 0.3)] };
  // C2 seed 0 re-run did not reproduce (0.15 vs 0.1): C2 takes only the fresh record; MS (not re-run) is kept.
  const differ = mergeRecords({ fp32: [rec('c2', 0, 0.15)], bf16: [] }, previous);
  assert.deepEqual(tags(differ.fp32), ['c2:0', 'ms:0']);
  assert.deepEqual(tags(differ.bf16), ['ms:0']);
  // Seed 0 reproduced exactly on both sides, seed 2 is new: the old seed 1 is kept on both sides.
  const same = mergeRecords({ fp32: [rec('c2', 0, 0.1), rec('c2', 2, 0.4)], bf16: [rec('c2', 0, 0.1)] }, previous);
  assert.deepEqual(tags(same.fp32), ['c2:0', 'c2:1', 'c2:2', 'ms:0']);
  assert.deepEqual(tags(same.bf16), ['c2:0', 'c2:1', 'ms:0']);
  // Only new seeds re-run (nothing to compare with): nothing proves it is the same study, so only fresh records.
  assert.deepEqual(tags(mergeRecords({ fp32: [rec('c2', 5, 0.1)], bf16: [] }, previous).fp32), ['c2:5', 'ms:0']);
  assert.equal(mergeRecords({ fp32: [], bf16: [] }, null).fp32.length, 0);
});
