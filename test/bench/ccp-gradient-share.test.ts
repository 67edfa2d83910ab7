// bench:ccp-grad end to end on generated Omniglot zips: every variant trains with the gradient-share callback, the
// table has a row per variant and phase with shares that add up, and the JSON / Markdown files are written.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gradShareMain, parseGradShareArgs } from '../../bench/ccp/gradient-share.js';
import { TERMS } from '../../bench/ccp/gradient-share-report.js';
import { omniglotFixture } from '../helpers/omniglot.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('grad-share');

test('bench:ccp-grad options and errors', () => {
  const a = parseGradShareArgs([]);
  assert.deepEqual([a.steps, a.every, a.seed, a.variants.map((v) => v.id)], [1000, 10, 0, ['c1-ccp', 'c1-ccp-active', 'c2-ccp']]);
  assert.deepEqual(a.variants[1]!.lossOptions, { original_contrastive: { reduction: 'active' } });
  assert.equal(a.variants[0]!.lossOptions, undefined, "the reference 'anchors' reduction is C1's default");
  assert.throws(() => parseGradShareArgs(['--variants', 'c3-ccp']), /unknown variant 'c3-ccp'/);
  assert.throws(() => parseGradShareArgs(['--every', '0']), /--every: expected an integer >= 1, got '0'/);
  assert.throws(() => parseGradShareArgs(['--bogus', '1']), /unknown option '--bogus'/);
});

test('bench:ccp-grad runs the variants on a tiny budget and writes the table', { timeout: 300_000 }, async () => {
  const out = join(tmp, 'out');
  const lines: string[] = [];
  const args = ['--steps', '20', '--every', '5', '--max-classes', '12', '--pretrain-epochs', '0.01', '--out', out, '--runs', join(tmp, 'runs', 'g')];
  args.push('--omniglot', await omniglotFixture(), '--variants', 'c1-ccp,c1-ccp-active');
  const r = await gradShareMain(args, (l) => lines.push(l));
  assert.deepEqual(
    r.runs.map((x) => [x.id, x.samples.length, x.lossOptions]),
    [
      ['c1-ccp', 10, {}],
      ['c1-ccp-active', 10, { reduction: 'active' }],
    ],
  );
  for (const row of r.summary) {
    const total = TERMS.reduce((a, t) => a + row.network[t], 0);
    assert.ok(Math.abs(total - 1) < 0.2, `${row.variant} ${row.phase}: medians of shares near 1 in sum, got ${total}`);
  }
  // C1's active pairs per row: at most K = 4 own proxies, at most K·(C − 1) others, at most B − 1 = 31 batch columns.
  for (const run of r.runs) {
    assert.equal(run.activePairs.length, 10);
    for (const p of run.activePairs)
      assert.ok(p.proxyPositives <= 4 && p.proxyNegatives <= 4 * 11 && p.batchPositives + p.batchNegatives <= 31, JSON.stringify(p));
  }
  assert.ok(existsSync(r.json) && existsSync(r.md));
  const md = readFileSync(r.md, 'utf8');
  assert.match(md, /\| c1-ccp-active \| all \| 10 \|/);
  assert.match(md, /\| c1-ccp \| all \| 10 \| [\d.]+ \| [\d.]+ \|/);
  assert.ok(lines.some((l) => /C1-CCP, reduction 'active': 50 steps/.test(l)));
  assert.equal(JSON.parse(readFileSync(r.json, 'utf8')).runs.length, 2);
});
