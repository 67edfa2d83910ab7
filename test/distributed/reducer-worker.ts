// A rank of gradient-reducer.test.ts: the same parameters on every rank, rank-specific gradients (some absent
// on some ranks), reduced in small buckets; prints the gradients it ends with. 'reduce': the gradients are set
// by hand (CCP_DML_TEST_OVERLAP=0: the reducer without backward hooks); 'backward': produced by a backward
// pass (the hooks start buckets during it), twice; 'twice': two backward passes before one reduce, an error.
// 'mismatch': rank 1 has one parameter more, which the reducer must refuse on every rank.
import { distributed, tensor, type Tensor } from '../../src/index.js';
import { tidy } from '../../src/engine/index.js';
import { isLaunchedRank, joinTestGroup } from './rank-group.js';
import { reducerParams, reducerGrad } from './reducer-case.js';

if (!isLaunchedRank()) process.exit(0);
const group = joinTestGroup();
const scenario = process.env.CCP_DML_TEST_SCENARIO ?? 'reduce';

/** A backward pass whose gradient of parameter i is reducerGrad(i, rank) (parameters without one are not used). */
function backward(params: Tensor[]): void {
  tidy(() => {
    const terms = params.flatMap((p, i) => {
      const g = reducerGrad(i, group.rank);
      return g
        ? [
            p
              .mul(tensor(g, p.shape, { dtype: p.dtype }))
              .sum()
              .to('float64'),
          ]
        : [];
    });
    terms.reduce((a, b) => a.add(b)).backward();
  });
}

function report(reducer: distributed.GradientReducer, params: Tensor[], extra: Record<string, unknown> = {}): void {
  const buckets = reducer.buckets.map((b) => ({ dtype: b.dtype, params: b.params }));
  console.log(JSON.stringify({ buckets, grads: params.map((p) => (p.grad ? p.grad.toArray() : null)), ...extra }));
}

const overlap = process.env.CCP_DML_TEST_OVERLAP !== '0';
if (scenario === 'reduce') {
  const params: Tensor[] = reducerParams();
  params.forEach((p, i) => {
    const g = reducerGrad(i, group.rank);
    if (g) p.grad = tensor(g, p.shape, { dtype: p.dtype });
  });
  const reducer = new distributed.GradientReducer(group, params, { bucketBytes: 40, overlap });
  reducer.reduce();
  report(reducer, params, { overlap: reducer.overlapsBackward });
} else if (scenario === 'backward') {
  const params: Tensor[] = reducerParams();
  const reducer = new distributed.GradientReducer(group, params, { bucketBytes: 40, overlap });
  const started: number[] = [];
  for (let step = 0; step < 2; step++) {
    params.forEach((p) => (p.grad = null));
    backward(params);
    reducer.reduce();
    started.push(reducer.startedDuringBackward);
  }
  reducer.dispose();
  report(reducer, params, { started });
} else if (scenario === 'twice') {
  const params: Tensor[] = reducerParams();
  const reducer = new distributed.GradientReducer(group, params, { bucketBytes: 40 });
  backward(params);
  try {
    backward(params);
    console.log(JSON.stringify({ error: null }));
  } catch (err) {
    console.log(JSON.stringify({ error: (err as Error).message }));
  }
  reducer.dispose();
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
