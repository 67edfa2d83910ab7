// Fails when a function of the training layer (the trainer, its steps, its callbacks) grows past 80 lines: train() was one 330-line
// function that knew every feature by name; it is now named steps and callbacks, and should stay so.
// Counts the lines of every function-like node (declarations, methods, arrows, function expressions) with the
// TypeScript parser, so it needs no build of the checked files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../helpers/repo-root.js';

const MAX_LINES = 80;

/** Functions of one source text longer than `max` lines, as 'name (n lines, line l)'. */
export function longFunctions(fileName: string, text: string, max = MAX_LINES): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const n = last - first + 1;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
      if (n > max) out.push(`${name} (${n} lines, line ${first + 1})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every .ts file under src/training (the trainer, its steps and its callbacks). */
function checkedFiles(root: string, dir = 'src/training'): string[] {
  return readdirSync(join(root, ...dir.split('/')), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? checkedFiles(root, posix.join(dir, e.name)) : e.name.endsWith('.ts') ? [posix.join(dir, e.name)] : [],
  );
}

test(`no function under src/training is longer than ${MAX_LINES} lines`, () => {
  const root = repoRoot(import.meta.url);
  const files = checkedFiles(root);
  for (const f of ['src/training/trainer.ts', 'src/training/hooks/callback-list.ts']) assert.ok(files.includes(f), `${f} is checked`);
  const long = files.flatMap((f) => longFunctions(f, readFileSync(join(root, ...f.split('/')), 'utf8')).map((l) => `${f}: ${l}`));
  assert.deepEqual(long, [], 'split these into named steps');
});

test('the length check finds a long function and ignores short ones', () => {
  const body = Array.from({ length: 85 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const text = `export function long(): void {\n${body}\n}\nconst short = () => 1;\nclass A { m(): number { return 1; } }\n`;
  assert.deepEqual(longFunctions('x.ts', text), ['long (87 lines, line 1)']);
  assert.deepEqual(longFunctions('x.ts', text, 90), []);
});
