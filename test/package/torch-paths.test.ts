// scripts/torch-paths.cjs, which tells binding.gyp where libtorch is and how to compile against it: the C++
// standard follows the headers (recent libtorch 2.x stops with an #error below C++20), the libstdc++ ABI follows
// TorchConfig.cmake, and NCCL is compiled in only when the libtorch has CUDA, with CUDA's headers found in the
// environment's toolkit or the pip wheels beside torch. Checked on fake LIBTORCH folders holding just the files
// the script reads.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../helpers/repo-root.js';
import { tempDir } from '../helpers/tmp.js';

const script = join(repoRoot(import.meta.url), 'scripts', 'torch-paths.cjs');

function torchPaths(libtorch: string, what: string, env: Record<string, string> = {}) {
  const clean = { ...process.env };
  for (const k of ['CUDA_HOME', 'CUDA_PATH', 'NCCL_HOME', 'NCCL_INCLUDE']) delete clean[k];
  const r = spawnSync(process.execPath, [script, what], { env: { ...clean, LIBTORCH: libtorch, ...env }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** A LIBTORCH folder with include/torch, include/ATen/ATen.h (the given text) and lib/, plus extra files. */
function fakeLibtorch(atenHeader: string, extra: string[] = [], root = tempDir('torch-paths')): string {
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
  assert.equal(torchPaths(cuda, 'defines').out, 'USE_C10D_NCCL USE_CUDA');
  assert.equal(torchPaths(cuda, 'cuda-libs').out, '-ltorch_cuda');
  assert.equal(torchPaths(fakeLibtorch('', [...NCCL_FILES, 'lib/libc10_cuda.so']), 'cuda-libs').out, '-ltorch_cuda -lc10_cuda');
  for (const partial of [[], NCCL_FILES.slice(0, 1), NCCL_FILES.slice(1)]) {
    const cpu = fakeLibtorch('', partial);
    assert.equal(torchPaths(cpu, 'defines').out, '', `with only ${partial.join(', ') || 'no CUDA files'}`);
    assert.equal(torchPaths(cpu, 'cuda-libs').out, '');
  }
});

test("a pip torch with CUDA: CUDA's headers from CUDA_HOME, then the nvidia wheels beside torch, with CUDA 13's cccl folder", () => {
  const site = tempDir('torch-paths-site');
  const torch = fakeLibtorch('', NCCL_FILES, join(site, 'torch'));
  const toolkit = join(site, 'toolkit');
  for (const dir of ['nvidia/cu13/include/cccl', 'nvidia/nccl/include', 'nvidia/empty', 'toolkit/include']) mkdirSync(join(site, dir), { recursive: true });
  const includes = torchPaths(torch, 'include', { CUDA_HOME: toolkit }).out.split(' ');
  const cudaPart = includes.slice(2).filter((d) => d.startsWith(site));
  assert.deepEqual(cudaPart, [
    join(toolkit, 'include'),
    join(site, 'nvidia/cu13/include'),
    join(site, 'nvidia/cu13/include/cccl'),
    join(site, 'nvidia/nccl/include'),
  ]);
  // Without CUDA the same folders are not added.
  const cpu = fakeLibtorch('', [], join(site, 'torch-cpu'));
  assert.deepEqual(torchPaths(cpu, 'include', { CUDA_HOME: toolkit }).out.split(' '), [join(cpu, 'include'), join(cpu, 'include/torch/csrc/api/include')]);
});

test("the libstdc++ ABI define follows TorchConfig.cmake's TORCH_CXX_FLAGS (old-ABI pip wheels up to torch 2.6)", () => {
  const config = (abi: number) => `if(CMAKE_SYSTEM_NAME STREQUAL "Linux")\n  set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${abi}")\nendif()\n`;
  for (const abi of [0, 1]) {
    const root = fakeLibtorch('');
    mkdirSync(join(root, 'share/cmake/Torch'), { recursive: true });
    writeFileSync(join(root, 'share/cmake/Torch/TorchConfig.cmake'), config(abi));
    assert.equal(torchPaths(root, 'defines').out, `_GLIBCXX_USE_CXX11_ABI=${abi}`);
  }
  // No TorchConfig.cmake, or one without the flag (libtorch 2.14 dropped the old ABI): the compiler's default.
  assert.equal(torchPaths(fakeLibtorch(''), 'defines').out, '');
});

test('a LIBTORCH without headers and an unknown request are refused with a message', () => {
  const empty = tempDir('torch-paths-empty');
  const missing = torchPaths(empty, 'include');
  assert.equal(missing.status, 1);
  assert.ok(missing.err.includes(`LIBTORCH=${empty} has no include/torch folder`), missing.err);
  const unknown = torchPaths(fakeLibtorch(''), 'flags');
  assert.equal(unknown.status, 2);
  assert.ok(unknown.err.includes('usage: torch-paths.cjs include|lib|cxx-std|defines|cuda-libs'), unknown.err);
});
