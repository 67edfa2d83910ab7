// Fails when a function anywhere under src/ grows past 80 lines: train() was one 330-line function that knew
// every feature by name, the server, the index CLI and the report builder were 100-150-line functions; they are
// now named steps, and new code should stay so.
// Counts the lines of every function-like node with a body (declarations, methods, constructors, accessors,
// arrows, function expressions, nested ones too) with the TypeScript parser, so it needs no build of the
// checked files. A function's lines run from its first token (its name or modifiers; a leading doc comment is
// not counted) to its closing brace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../helpers/repo-root.js';

const MAX_LINES = 80;

/** A readable name: the declared one, or the variable / property an arrow or function expression is assigned to. */
function functionName(node: ts.SignatureDeclaration, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name) return node.name.getText(sf);
  const p = node.parent;
  if ((ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) return p.name.getText(sf);
  return '(anonymous)';
}

/** Functions of one source text longer than `max` lines, as 'name (n lines, line l)'. */
export function longFunctions(fileName: string, text: string, max = MAX_LINES): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const n = last - first + 1;
      if (n > max) out.push(`${functionName(node, sf)} (${n} lines, line ${first + 1})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every .ts file under `dir` (default: all of src/). */
function checkedFiles(root: string, dir = 'src'): string[] {
  return readdirSync(join(root, ...dir.split('/')), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? checkedFiles(root, posix.join(dir, e.name)) : e.name.endsWith('.ts') ? [posix.join(dir, e.name)] : [],
  );
}

test(`no function under src/ is longer than ${MAX_LINES} lines`, () => {
  const root = repoRoot(import.meta.url);
  const files = checkedFiles(root);
  for (const f of ['src/training/trainer.ts', 'src/training/hooks/callback-list.ts', 'src/serve/app.ts', 'src/cli/main.ts', 'src/native/binding.ts'])
    assert.ok(files.includes(f), `${f} is checked`);
  assert.ok(files.length > 200, `${files.length} files checked`);
  const long = files.flatMap((f) => longFunctions(f, readFileSync(join(root, ...f.split('/')), 'utf8')).map((l) => `${f}: ${l}`));
  assert.deepEqual(long, [], 'split these into named steps');
});

/** `n` lines of statements. */
const lines = (n: number, indent = '    ') => Array.from({ length: n }, (_, i) => `${indent}const v${i} = ${i};`).join('\n');

test('the length check finds a long function and ignores short ones', () => {
  const text = `export function long(): void {\n${lines(85, '  ')}\n}\nconst short = () => 1;\nclass A { m(): number { return 1; } }\n`;
  assert.deepEqual(longFunctions('x.ts', text), ['long (87 lines, line 1)']);
  assert.deepEqual(longFunctions('x.ts', text, 90), []);
});

test('the length check counts every kind of function: methods, constructors, accessors, arrows, expressions, nested ones', () => {
  const text = [
    'class A {', //                                          line 1
    `  constructor() {\n${lines(81)}\n  }`, //              2..84: 83 lines
    `  method(): void {\n${lines(81)}\n  }`, //             85..167
    `  get value(): number {\n${lines(81)}\n    return 1;\n  }`, // 168..251: 84 lines
    `  static make = () => {\n${lines(81)}\n  };`, //       252..334
    '}',
    `export const arrow = async (x: number) => {\n${lines(81, '  ')}\n};`, // 336..418
    `const o = { handler: function () {\n${lines(81, '  ')}\n}, short() { return 1; } };`, // 419..501
    `function outer() {\n  const inner = () => {\n${lines(81)}\n  };\n  return inner;\n}`, // 502..587: outer 86, inner 83
    `register(() => {\n${lines(81, '  ')}\n});`, // 588..670
  ].join('\n');
  assert.deepEqual(longFunctions('x.ts', text), [
    'constructor (83 lines, line 2)',
    'method (83 lines, line 85)',
    'value (84 lines, line 168)',
    'make (83 lines, line 252)',
    'arrow (83 lines, line 336)',
    'handler (83 lines, line 419)',
    'outer (86 lines, line 502)',
    'inner (83 lines, line 503)',
    '(anonymous) (83 lines, line 588)',
  ]);
  // Exactly at the limit passes; one line more fails.
  assert.deepEqual(longFunctions('x.ts', `function f() {\n${lines(78)}\n}`), []);
  assert.deepEqual(longFunctions('x.ts', `function f() {\n${lines(79)}\n}`), ['f (81 lines, line 1)']);
});
