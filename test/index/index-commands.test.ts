// index build/add/remove/search and calibrate on a run with generated images: an indexed image queried again
// comes back first at distance exactly 0, results agree with the exact `search` command, a run with other
// weights is refused, and calibration turns results into a matched label or "unknown".
import test from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indexBuild, indexAdd, indexRemove, indexSearch, indexInfo, indexCompact, calibrateCommand } from '../../src/cli/index-commands.js';
import { searchCommand, embedCommand } from '../../src/cli/commands.js';
import { makeTinyRun, classImage } from '../helpers/tiny-run.js';
import { tempDir } from '../helpers/tmp.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = tempDir('index-cli');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('build, search by image and vector, add, remove, model check, calibrate and match', { timeout: 300_000 }, async () => {
  const tiny = await makeTinyRun(join(tmp, 'a'));
  const index = join(tmp, 'gallery.index');
  const info = await indexBuild({ run: tiny.runDir, index, images: tiny.imagesDir, quiet: true });
  assert.equal(info.size, tiny.files.length);
  assert.equal(info.labels, 12);

  const query = tiny.files[7]!.path;
  const [r] = await indexSearch({ index, run: tiny.runDir, queries: [query], k: 5 });
  assert.equal(r!.results[0]!.id, 'class01/img2.png');
  assert.equal(r!.results[0]!.distance, 0, 'an indexed image comes back at distance exactly 0');
  assert.equal(r!.results[0]!.label, 'class01');
  assert.equal(r!.match, undefined, 'no calibration yet');
  // Same neighbours as the exact, batched search command (distances to 1e-3: it ranks by the dot-product
  // expansion, whose cancellation leaves ~sqrt(eps) at distance 0, and batch sizes round differently).
  const [exact] = await searchCommand({ run: tiny.runDir, gallery: tiny.imagesDir, queries: [query], k: 5 });
  assert.deepEqual(
    r!.results.map((x) => x.path),
    exact!.results.map((x) => resolve(x.path)),
  );
  r!.results.forEach((x, i) => assert.ok(Math.abs(x.distance - exact!.results[i]!.distance) < 1e-3, `${x.distance} vs ${exact!.results[i]!.distance}`));

  const filtered = await indexSearch({ index, run: tiny.runDir, queries: [query], k: 3, label: 'class05' });
  assert.ok(filtered[0]!.results.every((x) => x.label === 'class05'));
  assert.equal(filtered[0]!.results.length, 3);

  // By vector: the stored vector of the item.
  const v = await indexSearch({ index, run: tiny.runDir, queries: [query], k: 1 });
  assert.equal(v[0]!.results[0]!.distance, 0);

  // Add a new image, then remove it.
  const extra = join(tmp, 'extra.png');
  writeFileSync(extra, await classImage(3, 99));
  const added = await indexAdd({ run: tiny.runDir, index, files: [extra], label: 'class03', quiet: true });
  assert.equal(added.size, tiny.files.length + 1);
  const found = await indexSearch({ index, run: tiny.runDir, queries: [extra], k: 1 });
  assert.equal(found[0]!.results[0]!.id, extra);
  assert.equal(found[0]!.results[0]!.distance, 0);
  indexRemove({ index, ids: [extra] });
  assert.equal(indexInfo({ index }).size, tiny.files.length);
  assert.equal(indexInfo({ index }).deletedRows, 1);

  // Compaction drops the removed row; the answers stay the same.
  const beforeCompact = await indexSearch({ index, run: tiny.runDir, queries: [query, extra], k: 5 });
  assert.deepEqual(indexCompact({ index }), { reclaimedRows: 1, size: tiny.files.length });
  assert.equal(indexInfo({ index }).deletedRows, 0);
  assert.deepEqual(await indexSearch({ index, run: tiny.runDir, queries: [query, extra], k: 5 }), beforeCompact);
  assert.ok(beforeCompact[1]!.results.every((r) => r.id !== extra));

  // Another model (other weights) is refused, naming both.
  const other = await makeTinyRun(join(tmp, 'b'), { seed: 99 });
  await assert.rejects(indexSearch({ index, run: other.runDir, queries: [query], k: 1 }), /was built with another model .* than run .*b[/\\]run/);
  await assert.rejects(indexAdd({ run: other.runDir, index, files: [extra], quiet: true }), /built with another model/);

  // Calibrate (best F1) and match.
  const { calibration, files } = await calibrateCommand({ run: tiny.runDir, goal: { metric: 'f1' } });
  assert.ok(files.every((f) => existsSync(f)));
  assert.match(readFileSync(join(tiny.runDir, 'calibration.svg'), 'utf8'), /^<svg/);
  assert.ok(calibration.curve.length > 1 && calibration.threshold >= 0);
  const saved = JSON.parse(readFileSync(join(tiny.runDir, 'calibration.json'), 'utf8'));
  assert.equal(saved.threshold, calibration.threshold);
  const m = await indexSearch({ index, run: tiny.runDir, queries: [query], k: 2 });
  assert.deepEqual(m[0]!.match, { label: 'class01', distance: 0 });
  const far = await indexSearch({ index, run: tiny.runDir, queries: [], vector: Array(8).fill('5').join(','), k: 1 });
  assert.equal(far[0]!.match, 'unknown');
  await assert.rejects(calibrateCommand({ run: tiny.runDir, goal: { metric: 'precision', target: 1.5 } }), /target precision must be in \(0, 1\], got 1.5/);

  // embed writes each row's id, path and class name beside the vectors.
  const emb = await embedCommand({ run: tiny.runDir, output: join(tmp, 'emb.npy'), split: 'test', images: tiny.imagesDir });
  assert.ok(emb.files.includes(join(tmp, 'emb.items.jsonl')));
  const rows = readFileSync(join(tmp, 'emb.items.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, tiny.files.length);
  assert.deepEqual(rows[7], { id: 'class01/img2.png', path: resolve(query), label: 'class01' });

  // The command line: wiring and messages.
  const cli = (...a: string[]) => spawnSync(process.execPath, [join(repo, 'dist/src/cli/main.js'), ...a], { encoding: 'utf8', timeout: 120_000 });
  const s = cli('index', 'search', '-i', index, '-r', tiny.runDir, '-k', '2', query);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /-> class01 \(0\.0000\)\n {2}1\. 0\.0000 {2}\[class01\] class01\/img2\.png/);
  const bad = cli('index', 'search', '-i', index, '--vector', '1,2');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--vector: 2 values is not a whole number of 8-d vectors/);
});
