// setNumThreads sets libtorch's intra-op threads and, where libtorch multiplies with OpenBLAS (Debian's build),
// OpenBLAS's own pool too: otherwise that pool keeps the size it had when it loaded and its idle workers spin on the
// cores a smaller thread count was meant to leave free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { getBlasThreads, getNumThreads, setNumThreads } from '../../src/engine/index.js';
import { repoRoot } from '../helpers/repo-root.js';

const openBlas = getBlasThreads() > 0;

test('setNumThreads: torch and OpenBLAS take the same count', {
  skip: openBlas ? false : 'libtorch here does not use OpenBLAS (e.g. MKL, whose threads follow torch)',
}, () => {
  const before = getNumThreads();
  try {
    for (const n of [1, 3, 2]) {
      setNumThreads(n);
      assert.deepEqual({ torch: getNumThreads(), blas: getBlasThreads() }, { torch: n, blas: n });
    }
  } finally {
    setNumThreads(before);
  }
});

test('the addon applies CCP_DML_THREADS to OpenBLAS too when it loads, whatever OMP_NUM_THREADS says', {
  skip: openBlas ? false : 'libtorch here does not use OpenBLAS',
}, () => {
  const runtime = join(repoRoot(import.meta.url), 'dist/src/engine/runtime.js');
  const script = `const r = await import(${JSON.stringify(runtime)}); console.log(JSON.stringify([r.getNumThreads(), r.getBlasThreads()]));`;
  const { OMP_NUM_THREADS: _omp, OPENBLAS_NUM_THREADS: _blas, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...env, CCP_DML_THREADS: '1' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [1, 1]);
});
