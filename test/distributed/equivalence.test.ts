// The key property of data parallelism: world size 2 with B/2 rows per rank trains the model world size 1
// trains with B rows. Float64, no BatchNorm, 6 SGD steps: the per-step losses and the final weights (network
// and loss parameters) agree to 1e-9 for C2, MS, triplet, their CCP versions across a projection, XBM and
// ProxyAnchor; CCP's re-placed proxies are identical on both ranks (checksum); XBM's memory holds the
// all-gathered rows: bit-identical on both ranks and equal to the single process's memory. xbm/contrastive with
// the code's m+ = 0 cannot follow a single process (equivalence-case.ts says why): its memories still agree.
// xbm/contrastive and ccp/contrastive therefore run with m+ = 0.05 (a row meets its own copy or its own proxy).
// The gradient all-reduce overlapped with backward (default) gives bit for bit what the all-reduce after
// backward gives (overlap: false), and its buckets do start during backward.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRanks, lastJson, withTempDir } from './spawn-ranks.js';
import { EQUIVALENCE_LOSSES, XBM_SELF_PAIR_CASE } from './equivalence-case.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'equivalence-worker.js');

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

test(
  'world size 2 with B/2 per rank = world size 1 with B, to 1e-9 (float64; C2, MS, triplet, CCP across a projection, XBM, ProxyAnchor)',
  { timeout: 240_000 },
  () =>
    withTempDir(async (dir) => {
      const losses = [...EQUIVALENCE_LOSSES, XBM_SELF_PAIR_CASE].join(',');
      const env =
        (tag: string, overlap = '1') =>
        () => ({ CCP_DML_TEST_STORE_FILE: join(dir, `store-${tag}`), CCP_DML_TEST_LOSSES: losses, CCP_DML_TEST_OVERLAP: overlap });
      const [one, two, after] = await Promise.all([runRanks(WORKER, 1, env('one')), runRanks(WORKER, 2, env('two')), runRanks(WORKER, 2, env('after', '0'))]);
      const single = lastJson(one[0]!, 0);
      const ranks = two.map(lastJson);
      const noOverlap = after.map(lastJson);
      for (const [rank, o] of ranks.entries()) {
        for (const name of losses.split(',')) {
          const { startedDuringBackward, ...rest } = o[name];
          const { startedDuringBackward: none, ...restAfter } = noOverlap[rank][name];
          assert.deepEqual(rest, restAfter, `${name} rank ${rank}: overlapped all-reduce = all-reduce after backward, bit for bit`);
          assert.equal(none, 0);
          assert.ok(startedDuringBackward > 0, `${name} rank ${rank}: buckets started during backward (${startedDuringBackward} of ${6 * o[name].buckets})`);
        }
      }
      for (const name of EQUIVALENCE_LOSSES) {
        const ref = single[name];
        assert.ok(ref.losses.every((v: number) => Number.isFinite(v)) && ref.losses.some((v: number) => v > 0), `${name}: losses ${ref.losses}`);
        if (name.startsWith('ccp/')) assert.equal(ref.projections, 1, `${name}: one projection mid-run`);
        for (const [rank, o] of ranks.entries()) {
          const got = o[name];
          ref.losses.forEach((v: number, s: number) => assert.ok(close(got.losses[s], v), `${name} rank ${rank} step ${s + 1}: loss ${got.losses[s]} vs ${v}`));
          assert.equal(got.weights.length, ref.weights.length);
          ref.weights.forEach((w: number[], i: number) =>
            w.forEach((v, k) => assert.ok(close(got.weights[i][k], v), `${name} rank ${rank} parameter ${i}[${k}]: ${got.weights[i][k]} vs ${v}`)),
          );
          assert.equal(got.projections, ref.projections);
        }
        assert.equal(ranks[0][name].proxyChecksum, ranks[1][name].proxyChecksum, `${name}: proxies identical on both ranks`);
        if (!name.startsWith('xbm/')) continue;
        assert.equal(ranks[0][name].memoryChecksum, ranks[1][name].memoryChecksum, `${name}: memory identical on both ranks`);
        const mem = ranks[0][name].memory.flat();
        ref.memory.flat().forEach((v: number, k: number) => assert.ok(close(mem[k], v), `${name} memory[${k}]: ${mem[k]} vs ${v}`));
      }
      const selfPair = ranks.map((o) => o[XBM_SELF_PAIR_CASE]);
      assert.ok(selfPair[0].memory.flat().length > 0);
      assert.equal(selfPair[0].memoryChecksum, selfPair[1].memoryChecksum, `${XBM_SELF_PAIR_CASE}: memory identical on both ranks`);
    }),
);
