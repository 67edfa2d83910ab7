// `npm run test:unit`: the fast inner-loop subset of the compiled tests (dist/test/), one file at a time.
// Unit tests of the lower layers only (see docs/ARCHITECTURE.md); training, end-to-end, CLI, serve, export,
// index, report, models and the PML comparisons run in the full `npm test`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const UNIT_FOLDERS = ['architecture', 'engine', 'losses', 'ccp', 'evaluation', 'data'];
// Slow even though they test one layer: a 3000-step memory soak.
const SLOW = new Set(['engine/memory.test.js']);

function testFiles(dir, rel) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const relPath = `${rel}/${name}`;
    if (statSync(path).isDirectory()) out.push(...testFiles(path, relPath));
    else if (name.endsWith('.test.js') && !SLOW.has(relPath)) out.push(path);
  }
  return out;
}

const root = join('dist', 'test');
const files = UNIT_FOLDERS.flatMap((folder) => testFiles(join(root, folder), folder));
if (files.length === 0) {
  console.error(`test:unit: no compiled tests under ${root}/{${UNIT_FOLDERS.join(',')}}; run npm run build:ts first`);
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
