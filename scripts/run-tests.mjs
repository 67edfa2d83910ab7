// Runs the compiled tests (dist/test/**/*.test.js) one file at a time: `npm test` runs them all,
// `npm run test:unit` (--unit) the fast inner-loop subset, the unit tests of the lower layers (see
// docs/ARCHITECTURE.md); training, end-to-end, CLI, serve, export, index, report, models and the PML comparisons
// run in the full `npm test`. Other arguments go to `node --test`.
//
// The files are listed here rather than by `node --test dist/test/`: Node.js 20 searches a folder given to it,
// but Node.js 22 and later take every argument as a file or glob pattern, and a glob is not understood by 20.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const UNIT_FOLDERS = ['architecture', 'engine', 'losses', 'ccp', 'evaluation', 'data'];
// Slow even though they test one layer: a 3000-step memory soak.
const SLOW = new Set(['engine/memory.test.js']);

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const nodeArgs = args.filter((a) => a !== '--unit');

function testFiles(dir, rel) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const relPath = rel ? `${rel}/${name}` : name;
    if (statSync(path).isDirectory()) out.push(...testFiles(path, relPath));
    else if (name.endsWith('.test.js') && !(unit && SLOW.has(relPath))) out.push(path);
  }
  return out;
}

const root = join('dist', 'test');
let files = [];
try {
  files = unit ? UNIT_FOLDERS.flatMap((folder) => testFiles(join(root, folder), folder)) : testFiles(root, '');
} catch {
  // a missing folder: reported below
}
if (files.length === 0) {
  console.error(`run-tests: no compiled tests under ${root}${unit ? `/{${UNIT_FOLDERS.join(',')}}` : ''}; run npm run build:ts first`);
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...nodeArgs, ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
