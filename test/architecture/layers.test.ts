// Fails when a module under src/ imports against the layer order in ./layer-order.ts (see
// docs/ARCHITECTURE.md). Reads the TypeScript sources, so it needs no build of the checked files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { repoRoot as findRepoRoot } from '../helpers/repo-root.js';
import { KNOWN_VIOLATIONS, LAYERS, PRIVATE_LAYERS, layerRank } from './layer-order.js';

const repoRoot = () => findRepoRoot(import.meta.url);

function sourceFiles(root: string, dir = 'src'): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(root, path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** 'src/engine/nn/linear.ts' -> 'engine'; 'src/index.ts' -> 'index.ts'. */
function layerOf(file: string): string {
  return file.split('/')[1]!;
}

/** Every relative import, export-from, and dynamic import() of one file, resolved to a repo path. */
function importsOf(file: string, text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

interface Finding {
  edge: string;
  problem: string;
}

/** The imports among `files` (path -> source text) that go against LAYERS. */
export function layerFindings(files: ReadonlyMap<string, string>): Finding[] {
  const findings: Finding[] = [];
  for (const [file, text] of files) {
    const from = layerOf(file);
    const fromRank = layerRank(from);
    if (fromRank === undefined) {
      findings.push({ edge: file, problem: `layer '${from}' is not in test/architecture/layer-order.ts` });
      continue;
    }
    for (const target of importsOf(file, text)) {
      const to = layerOf(target);
      if (to === from) continue;
      const toRank = layerRank(to);
      const edge = `${file} -> ${target}`;
      if (toRank === undefined) findings.push({ edge, problem: `imports unknown layer '${to}'` });
      else if (toRank === fromRank) findings.push({ edge, problem: `'${from}' and '${to}' are peers (same rank)` });
      else if (toRank > fromRank) findings.push({ edge, problem: `'${from}' (rank ${fromRank}) imports higher layer '${to}' (rank ${toRank})` });
      else if (PRIVATE_LAYERS.has(to) && !PRIVATE_LAYERS.get(to)!.includes(from))
        findings.push({ edge, problem: `'${to}' may be imported only by ${PRIVATE_LAYERS.get(to)!.join(', ')}` });
    }
  }
  return findings;
}

function readSources(): Map<string, string> {
  const root = repoRoot();
  return new Map(sourceFiles(root).map((f) => [f, readFileSync(join(root, ...f.split('/')), 'utf8')]));
}

test('every module under src/ imports only its own or lower layers', () => {
  const files = readSources();
  assert.ok(files.size > 50, `expected the src/ tree, found ${files.size} files`);
  const unexpected = layerFindings(files).filter((f) => !KNOWN_VIOLATIONS.has(f.edge));
  assert.deepEqual(
    unexpected.map((f) => `${f.edge}: ${f.problem}`),
    [],
    'imports against the layer order (fix the import, or see docs/ARCHITECTURE.md)',
  );
});

test('every known violation still occurs (drop fixed ones from KNOWN_VIOLATIONS)', () => {
  const found = new Set(layerFindings(readSources()).map((f) => f.edge));
  const stale = [...KNOWN_VIOLATIONS.keys()].filter((edge) => !found.has(edge));
  assert.deepEqual(stale, [], 'known violations that no longer occur');
});

test('every folder of src/ has a place in the layer table', () => {
  const root = repoRoot();
  const folders = readdirSync(join(root, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const missing = folders.filter((name) => layerRank(name) === undefined);
  assert.deepEqual(missing, [], 'folders missing from LAYERS');
  assert.equal(new Set(LAYERS.flat()).size, LAYERS.flat().length, 'a layer is listed twice');
});

test('the checker catches upward, peer, private, dynamic and re-export imports', () => {
  const files = new Map([
    ['src/engine/a.ts', "import { x } from '../training/trainer.js';\nexport { y } from '../cli/main.js';"],
    ['src/losses/b.ts', "import type { Z } from '../models/index.js';\nconst m = await import('../ccp/index.js');"],
    ['src/training/c.ts', "import { t } from '../engine/index.js';\nimport { u } from './config.js';"],
    ['src/newlayer/d.ts', ''],
    ['src/ccp/e.ts', "import { native } from '../native/binding.js';"],
  ]);
  const edges = layerFindings(files).map((f) => f.edge);
  assert.deepEqual(edges, [
    'src/engine/a.ts -> src/training/trainer.ts',
    'src/engine/a.ts -> src/cli/main.ts',
    'src/losses/b.ts -> src/models/index.ts',
    'src/losses/b.ts -> src/ccp/index.ts',
    'src/newlayer/d.ts',
    'src/ccp/e.ts -> src/native/binding.ts',
  ]);
});
