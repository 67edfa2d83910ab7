// The gradient-reducer test case, shared by its ranks and the test's hand average: five parameters of two
// dtypes; parameter 2 has a gradient on rank 0 only, parameter 4 on no rank.
import { tensor, type Tensor } from '../../src/index.js';

export const REDUCER_SHAPES: { shape: number[]; dtype: 'float64' | 'float32' }[] = [
  { shape: [2, 3], dtype: 'float64' },
  { shape: [4], dtype: 'float32' },
  { shape: [3], dtype: 'float64' },
  { shape: [2, 2], dtype: 'float64' },
  { shape: [1], dtype: 'float32' },
];

export function reducerParams(): Tensor[] {
  return REDUCER_SHAPES.map(({ shape, dtype }) => tensor(new Float64Array(shape.reduce((a, b) => a * b, 1)), shape, { dtype }).requireGrad());
}

/** Rank `rank`'s gradient of parameter `i` (null: none). float32-exact values so the average is exact too. */
export function reducerGrad(i: number, rank: number): number[] | null {
  if (i === 4 || (i === 2 && rank !== 0)) return null;
  const n = REDUCER_SHAPES[i]!.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, k) => (rank + 1) * (k + 1) + 0.25 * i);
}
