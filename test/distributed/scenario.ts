// The differentiable all-gather case shared by the workers and the single-process reference: rank r's rows
// and rank r's loss over the global batch (different on every rank, so the gradient's sum over ranks shows).
import { tensor, type Tensor } from '../../src/index.js';

export function rankInput(rank: number): Tensor {
  const rows = rank + 1;
  return tensor(
    Array.from({ length: rows * 3 }, (_, i) => Math.sin(1 + rank * 10 + i)),
    [rows, 3],
    { dtype: 'float64' },
  );
}

export function rankLoss(global: Tensor, rank: number): Tensor {
  const n = global.size(0);
  const w = tensor(
    Array.from({ length: n * 3 }, (_, i) => Math.cos(rank + 0.3 * i)),
    [n, 3],
    { dtype: 'float64' },
  );
  return global
    .square()
    .mul(w)
    .sum()
    .add(global.sum().mul(rank + 1));
}
