// scripts/torch-paths.cjs, which tells binding.gyp where libtorch is and how to compile against it: the C++
// standard follows the headers (recent libtorch 2.x stops with an #error below C++20), and NCCL is compiled in
// only when the libtorch has CUDA. Checked on fake LIBTORCH folders holding just the files the script reads.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../helpers/repo-root.js';
import { tempDir } from '../helpers/tmp.js';

const script = join(repoRoot(import.meta.url), 'scripts', 'torch-paths.cjs');

function torchPaths(libtorch: string, what: string) {
  const r = spawnSync(process.execPath, [script, what], { env: { ...process.env, LIBTORCH: libtorch }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** A LIBTORCH folder with include/torch, include/ATen/ATen.h (the given text) and lib/, plus extra files. */
function fakeLibtorch(atenHeader: string, extra: string[] = []): string {
  const root = tempDir('torch-paths');
  mkdirSync(join(root, 'include', 'torch'), { recursive: true });
  mkdirSync(join(root, 'lib'));
  for (const [rel, text] of [['include/ATen/ATen.h', atenHeader], ...extra.map((f) => [f, ''])] as const) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

const CXX20_GUARD =
  '#pragma once\n#if !defined(__cplusplus) || __cplusplus < 202002L\n#error C++20 or later compatible compiler is required to use ATen.\n#endif\n';
const NCCL_FILES = ['lib/libtorch_cuda.so', 'include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp'];

test('cxx-std: c++20 for headers that require it, c++17 for the others', () => {
  assert.equal(torchPaths(fakeLibtorch(CXX20_GUARD), 'cxx-std').out, 'c++20');
  assert.equal(torchPaths(fakeLibtorch('#pragma once\n#include <c10/core/Allocator.h>\n'), 'cxx-std').out, 'c++17');
});

test('include and lib point into LIBTORCH', () => {
  const root = fakeLibtorch('');
  assert.deepEqual(torchPaths(root, 'include').out.split(' '), [join(root, 'include'), join(root, 'include/torch/csrc/api/include')]);
  assert.equal(torchPaths(root, 'lib').out, join(root, 'lib'));
});

test('NCCL is compiled in only for a libtorch with CUDA and the NCCL process group header', () => {
  const cuda = fakeLibtorch('', NCCL_FILES);
  assert.equal(torchPaths(cuda, 'cuda-defines').out, 'USE_C10D_NCCL USE_CUDA');
  assert.equal(torchPaths(cuda, 'cuda-libs').out, '-ltorch_cuda');
  for (const partial of [[], NCCL_FILES.slice(0, 1), NCCL_FILES.slice(1)]) {
    const cpu = fakeLibtorch('', partial);
    assert.equal(torchPaths(cpu, 'cuda-defines').out, '', `with only ${partial.join(', ') || 'no CUDA files'}`);
    assert.equal(torchPaths(cpu, 'cuda-libs').out, '');
  }
});

test('a LIBTORCH without headers and an unknown request are refused with a message', () => {
  const empty = tempDir('torch-paths-empty');
  const missing = torchPaths(empty, 'include');
  assert.equal(missing.status, 1);
  assert.ok(missing.err.includes(`LIBTORCH=${empty} has no include/torch folder`), missing.err);
  const unknown = torchPaths(fakeLibtorch(''), 'flags');
  assert.equal(unknown.status, 2);
  assert.match(unknown.err, /usage: torch-paths\.cjs include\|lib\|cxx-std\|cuda-defines\|cuda-libs/);
});
