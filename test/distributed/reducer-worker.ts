// A rank of gradient-reducer.test.ts: the same parameters on every rank, rank-specific gradients (some absent
// on some ranks), reduced in small buckets; prints the gradients it ends with. 'mismatch': rank 1 has one
// parameter more, which the reducer must refuse on every rank.
import { distributed, tensor, type Tensor } from '../../src/index.js';
import { isLaunchedRank, joinTestGroup } from './rank-group.js';
import { reducerParams, reducerGrad } from './reducer-case.js';

if (!isLaunchedRank()) process.exit(0);
const group = joinTestGroup();
const scenario = process.env.CCP_DML_TEST_SCENARIO ?? 'reduce';

if (scenario === 'reduce') {
  const params: Tensor[] = reducerParams();
  params.forEach((p, i) => {
    const g = reducerGrad(i, group.rank);
    if (g) p.grad = tensor(g, p.shape, { dtype: p.dtype });
  });
  const reducer = new distributed.GradientReducer(group, params, { bucketBytes: 40 });
  reducer.reduce();
  console.log(
    JSON.stringify({
      buckets: reducer.buckets.map((b) => ({ dtype: b.dtype, params: b.params })),
      grads: params.map((p) => (p.grad ? p.grad.toArray() : null)),
    }),
  );
} else {
  const params = reducerParams();
  if (group.rank === 1) params.push(tensor([1, 2], [2], { dtype: 'float64' }).requireGrad());
  try {
    new distributed.GradientReducer(group, params);
    console.log(JSON.stringify({ error: null }));
  } catch (err) {
    console.log(JSON.stringify({ error: (err as Error).message }));
  }
}
group.destroy();
