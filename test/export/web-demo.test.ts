// The browser demo in headless Chromium: the exported page loads its ONNX model in onnxruntime-web, embeds a
// gallery image submitted through the file input, and lists the same neighbours as `index search` (ids in
// order, distances to 1e-4); a screenshot is taken. Skipped with a message where Chromium is absent.
import test from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { indexBuild, indexSearch, openRun } from '../../src/cli/index-commands.js';
import { writeWebDemo } from '../../src/export/index.js';
import { makeTinyRun } from '../helpers/tiny-run.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { serveFolder } from '../helpers/static-server.js';
import { tempDir } from '../helpers/tmp.js';

const missing = chromiumMissing();

test('export --web: the page in Chromium finds the same neighbours as the CLI', { skip: missing, timeout: 240_000 }, async () => {
  const tmp = tempDir('web');
  try {
    const tiny = await makeTinyRun(join(tmp, 'run'));
    const web = join(tmp, 'web');
    const r = await writeWebDemo({ dir: web, run: openRun(tiny.runDir), gallery: tiny.imagesDir, k: 5 });
    assert.equal(r.items, tiny.files.length);
    for (const f of ['index.html', 'demo.js', 'model.onnx', 'gallery.json', 'gallery.f32', 'ort/ort.wasm.min.js', 'ort/ort-wasm-simd-threaded.wasm'])
      assert.ok(existsSync(join(web, f)), f);
    await assert.rejects(writeWebDemo({ dir: web, run: openRun(tiny.runDir), gallery: tiny.imagesDir }), /exists and is not empty/);

    const query = tiny.files[13]!;
    const index = join(tmp, 'gallery.index');
    await indexBuild({ run: tiny.runDir, index, images: tiny.imagesDir, quiet: true });
    const [cli] = await indexSearch({ index, run: tiny.runDir, queries: [query.path], k: 5 });

    const site = await serveFolder(web);
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(site.url);
      await page.waitForFunction(() => /^(ready|error)/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 120_000 });
      assert.equal(await page.textContent('#status'), 'ready', errors.join('\n'));
      await page.setInputFiles('#file', query.path);
      await page.waitForFunction(() => /^(done|error)/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
      assert.equal(await page.textContent('#status'), 'done', errors.join('\n'));
      const shown = await page.$$eval('#neighbours li', (lis) =>
        lis.map((li) => ({ id: (li as HTMLElement).dataset.id!, distance: Number((li as HTMLElement).dataset.distance) })),
      );
      assert.deepEqual(
        shown.map((s) => s.id),
        cli!.results.map((x) => x.id),
      );
      shown.forEach((s, i) =>
        assert.ok(Math.abs(s.distance - cli!.results[i]!.distance) < 1e-4, `${s.id}: page ${s.distance}, CLI ${cli!.results[i]!.distance}`),
      );
      const shot = join(tmp, 'demo.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 1000);
    } finally {
      await browser.close();
      await site.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
