// What `npm publish` would ship: the compiled library and CLI, their type declarations, and what the install
// step compiles (native sources, binding.gyp, the two build scripts); no tests, benchmarks, results, CI or
// TypeScript sources. Types the public declarations import must come with the package's dependencies.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

function packList(): string[] {
  // --ignore-scripts: list what would be packed without running prepack's build.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // npm up to 11 prints an array of packages, npm 12 an object keyed by package name.
  const parsed = JSON.parse(out);
  const entry = Array.isArray(parsed) ? parsed[0] : parsed[pkg.name];
  return (entry.files as { path: string }[]).map((f) => f.path);
}

test('the npm tarball holds the library, the CLI and the native sources, and nothing else', () => {
  const files = packList();
  for (const must of [
    'package.json',
    'README.md',
    'binding.gyp',
    'scripts/build-native.mjs',
    'scripts/torch-paths.cjs',
    'native/addon.cc',
    'native/common.h',
    'native/torch_compat.h',
    pkg.main,
    pkg.types,
    pkg.bin['ccp-dml'],
  ]) {
    assert.ok(files.includes(must), `${must} is packed`);
  }
  const unwanted = files.filter(
    (f) =>
      /^(test|bench|results|docs|\.ci|src|scripts\/fixtures|build|node_modules|dist\/test|dist\/bench)\//.test(f) ||
      /\.(ts|map)$/.test(f.replace(/\.d\.ts$/, '')) ||
      f === 'scripts/setup.sh',
  );
  assert.deepEqual(unwanted, []);
  for (const f of files)
    assert.match(
      f,
      /^(dist\/src\/.*\.(js|d\.ts)|native\/[\w.]+|binding\.gyp|scripts\/(build-native\.mjs|torch-paths\.cjs)|package\.json|README\.md|LICENSE)$/,
      f,
    );
  // Every file the install script reads is packed.
  for (const s of JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).scripts.install.match(/scripts\/[\w.-]+/g) ?? [])
    assert.ok(files.includes(s), s);
});

test("the public declarations' imports resolve to dependencies that bring their types", () => {
  const deps = new Set(Object.keys(pkg.dependencies));
  const declarations = packList().filter((f) => f.endsWith('.d.ts'));
  assert.ok(declarations.length > 50);
  const needed = new Set<string>();
  for (const f of declarations) {
    const text = readFileSync(join(repo, f), 'utf8');
    for (const m of text.matchAll(/from '([^'.][^']*)'|import\("([^".][^"]*)"\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('node:')) needed.add('@types/node');
      else needed.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
    if (/\b(Buffer|NodeJS\.)/.test(text)) needed.add('@types/node');
  }
  for (const name of needed) {
    assert.ok(deps.has(name), `${name} (imported by the declarations) is a dependency`);
    if (name.startsWith('@types/')) continue;
    const own = JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8'));
    const typed = Boolean(own.types ?? own.typings ?? own.exports?.['.']?.types ?? own.exports?.['.']?.import?.types ?? own.exports?.['.']?.require?.types);
    assert.ok(typed || deps.has(`@types/${name}`), `${name} ships types or @types/${name} is a dependency`);
  }
});
