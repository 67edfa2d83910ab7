// Every rank must reduce the same parameters in the same order, or the gradient buckets would pair up
// unrelated values (or hang on different sizes). DDP checks this at construction; so do we.
import type { Tensor } from '../engine/tensor.js';
import { DistributedError } from './errors.js';
import type { ProcessGroup } from './process-group.js';
import { ranksDifferingFromRank0 } from './rank-agreement.js';

export function parameterLayout(params: readonly Tensor[]): string {
  return params.map((p) => `${p.dtype}[${p.shape.join(',')}]`).join(' ');
}

/** Throws on every rank when some rank's parameter shapes or dtypes differ from rank 0's. */
export function checkSameParameters(group: ProcessGroup, params: readonly Tensor[]): void {
  const layout = parameterLayout(params);
  const differ = ranksDifferingFromRank0(group, layout);
  if (differ.length === 0) return;
  const numel = params.reduce((a, p) => a + p.numel, 0);
  throw new DistributedError(
    `gradient reducer: the parameters of rank(s) ${differ.join(', ')} differ from rank 0's (shapes or dtypes; this is rank ${group.rank} ` +
      `with ${params.length} parameters, ${numel} values); every rank must build the same model and loss`,
    'reduce',
    group.rank,
  );
}
