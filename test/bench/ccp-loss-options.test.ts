// bench:ccp --loss-option: a base loss's own option reaches the run config of every study method on that base
// loss (with and without CCP) and no other; bad losses, keys and values fail before any run.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../bench/ccp/main.js';
import { runConfig } from '../../bench/ccp/study.js';
import { selectMethods } from '../../bench/ccp/methods.js';
import { buildLoss } from '../../src/training/build.js';
import { isCcpLoss } from '../../src/ccp/index.js';
import { OriginalContrastiveLoss } from '../../src/losses/original_contrastive.js';

const budget = { kind: 'steps', value: 10 } as const;

test('--loss-option original_contrastive.reduction=active reaches C1 and C1-CCP only', () => {
  const s = parseArgs(['--loss-option', 'original_contrastive.reduction=active', '--methods', 'c1,c1-ccp,c2-ccp']).settings;
  assert.deepEqual(s.lossOptions, { original_contrastive: { reduction: 'active' } });
  assert.equal(s.mode, 'custom');
  const [c1, c1ccp, c2ccp] = s.methods.map((m) => runConfig(s, m, 0, 1e-3, budget, m.id));
  assert.deepEqual([c1!.loss.options, c1ccp!.loss.options, c2ccp!.loss.options], [{ reduction: 'active' }, { reduction: 'active' }, {}]);
  const loss = buildLoss(c1ccp!, 5);
  try {
    assert.ok(isCcpLoss(loss));
    assert.ok(loss.base instanceof OriginalContrastiveLoss);
    assert.equal((loss.base as OriginalContrastiveLoss).reduction, 'active');
  } finally {
    if (isCcpLoss(loss)) loss.dispose();
  }
  // Without the flag: the loss's own default ('anchors', the reference code's form).
  const plain = parseArgs([]).settings;
  assert.equal(plain.lossOptions, undefined);
  assert.deepEqual(runConfig(plain, selectMethods('c1-ccp')[0]!, 0, 1e-3, budget, 'x').loss.options, {});
});

test('--loss-option: several pairs, numbers, and clear errors', () => {
  const s = parseArgs(['--loss-option', 'original_contrastive.margin=0.4,contrastive.negMargin=0.6']).settings;
  assert.deepEqual(s.lossOptions, { original_contrastive: { margin: 0.4 }, contrastive: { negMargin: 0.6 } });
  assert.throws(() => parseArgs(['--loss-option', 'c1.reduction=active']), /--loss-option: unknown loss 'c1'/);
  assert.throws(() => parseArgs(['--loss-option', 'original_contrastive.reductoin=active']), /--loss-option original_contrastive.reductoin: .*reductoin/);
  assert.throws(() => parseArgs(['--loss-option', 'original_contrastive.reduction=mean']), /reduction must be 'anchors' or 'active', got 'mean'/);
  assert.throws(() => parseArgs(['--loss-option', 'reduction']), /expected <loss>.<key>=<value>/);
});
