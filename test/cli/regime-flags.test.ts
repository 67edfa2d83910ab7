// The paper's training regime from the command line (issue 13): LR 1e-5, global early stopping after 60 epochs,
// CCP patience and frozen BatchNorm, checked in the resolved config (--print-config).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(repo, 'dist/src/cli/main.js');

function printConfig(args: string[]) {
  const r = spawnSync(process.execPath, [main, 'train', '--preset', 'mnist', ...args, '--print-config'], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("train flags set the paper's regime: --lr 1e-5 --patience 60 --ccp-patience 3 --freeze-bn", () => {
  const r = printConfig(['--lr', '1e-5', '--patience', '60', '--ccp-patience', '3', '--freeze-bn', '--steps-per-epoch', '25']);
  assert.equal(r.code, 0, r.err);
  const c = JSON.parse(r.out);
  assert.equal(c.optimizer.lr, 1e-5);
  assert.equal(c.training.earlyStopPatience, 60);
  assert.equal(c.training.stepsPerEpoch, 25);
  assert.equal(c.ccp.patience, 3);
  assert.equal(c.model.freezeBatchNorm, true);
  const plain = JSON.parse(printConfig([]).out);
  assert.equal(plain.model.freezeBatchNorm, false);
  const bad = printConfig(['--ccp-patience', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /ccp\.patience/);
});
