// The declared NativeBinding interface (src/native/binding.ts) and the compiled addon list the same functions,
// so the compiler's checks of native calls cover every export and no declared function is missing at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo-root.js';
import { native } from '../../src/native/binding.js';

function bindingSource(): string {
  return readFileSync(join(repoRoot(import.meta.url), 'src', 'native', 'binding.ts'), 'utf8');
}

/** Member names of `export interface NativeBinding { ... }`, read from the source. */
function declaredNames(source: string): string[] {
  const start = source.indexOf('export interface NativeBinding {');
  assert.ok(start >= 0, 'src/native/binding.ts declares no NativeBinding interface');
  const body = source.slice(start, source.indexOf('\n}', start));
  return [...body.matchAll(/^ {2}(?:readonly )?([A-Za-z_0-9]+)[(:]/gm)].map((m) => m[1]!).sort();
}

test('NativeBinding declares exactly the functions the addon exports', () => {
  const declared = declaredNames(bindingSource());
  assert.ok(declared.length > 100, `read only ${declared.length} NativeBinding members`);
  const exported = Object.keys(native)
    .filter((k) => k !== 'NativeTensor')
    .sort();
  assert.deepEqual(
    exported.filter((k) => !declared.includes(k)),
    [],
    'addon exports missing from NativeBinding',
  );
  assert.deepEqual(
    declared.filter((k) => !exported.includes(k)),
    [],
    'NativeBinding members the addon does not export',
  );
});
