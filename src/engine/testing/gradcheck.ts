// Finite-difference gradient checking (like torch.autograd.gradcheck): compares the autograd gradient of
// sum(fn(...inputs) * w), with fixed random weights w, to central differences, input element by element.
import { Tensor } from '../tensor.js';
import { tensor } from '../creation.js';
import { grad, noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { FLOAT_DTYPES } from '../dtype.js';
import { mulberry32 } from '../random.js';

export interface GradcheckOptions {
  /** Step of the central difference. */
  eps?: number;
  /** Absolute tolerance. */
  atol?: number;
  /** Relative tolerance (relative to the numerical gradient). */
  rtol?: number;
  /** Seed of the random output weights (a JS generator: torch's generator is left alone). */
  seed?: number;
  /** Which inputs to differentiate (default: every floating-point input). Others are passed as constants. */
  checkInputs?: boolean[];
  /** A name for the error message. */
  name?: string;
}

export interface GradcheckMismatch {
  input: number;
  /** Flat (row-major) element index and its multi-index. */
  flatIndex: number;
  index: number[];
  analytic: number;
  numeric: number;
}

/** Thrown by gradcheck; carries the mismatching elements. */
export class GradcheckError extends Error {
  constructor(
    message: string,
    readonly mismatches: GradcheckMismatch[],
  ) {
    super(message);
    this.name = 'GradcheckError';
  }
}

/** Deterministic uniform [0, 1) numbers (mulberry32). */
export const seededRandom: (seed: number) => () => number = mulberry32;

function unravel(flat: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return idx;
}

/**
 * Checks the gradients of `fn` with respect to its floating-point inputs (float64 required) against
 * central differences. Returns true, or throws a GradcheckError naming the input, element, analytic and
 * numerical values of the worst mismatches. fn must be deterministic and must not modify its inputs.
 * Non-float inputs (indices, masks) are passed through unchanged. The inputs are not modified.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): true {
  const tol: Tolerances = { eps: options.eps ?? 1e-6, atol: options.atol ?? 1e-5, rtol: options.rtol ?? 1e-3 };
  const label = options.name ? `gradcheck(${options.name})` : 'gradcheck';
  const check = checkedInputs(inputs, options, label);

  return tidy(() => {
    const base = inputs.map((t) => t.detach().clone());
    const leaves = base.map((t, i) => (check[i] ? t.detach().clone().requireGrad() : t));
    const out = fn(...leaves);
    const objective = weightedSum(out, options.seed ?? 1234, label);
    const checkedLeaves = leaves.filter((_, i) => check[i]);
    const grads = grad([objective(out)], checkedLeaves);

    const mismatches: GradcheckMismatch[] = [];
    let total = 0;
    let worst = 0;
    let gi = 0;
    for (let i = 0; i < inputs.length; i++) {
      if (!check[i]) continue;
      const g = grads[gi++];
      const analytic = g ? g.toFloat64Array() : new Float64Array(base[i]!.numel);
      const r = compareInput(i, analytic, base, (xs) => objective(fn(...xs)).item(), tol, mismatches);
      total += r.total;
      worst = Math.max(worst, r.worst);
    }
    if (mismatches.length > 0) throw mismatchError(label, mismatches, total, worst, tol);
    return true as const;
  });
}

interface Tolerances {
  eps: number;
  atol: number;
  rtol: number;
}

/** Which inputs to differentiate; each of them must be float64. */
function checkedInputs(inputs: Tensor[], options: GradcheckOptions, label: string): boolean[] {
  const check = inputs.map((t, i) => {
    const wanted = options.checkInputs ? (options.checkInputs[i] ?? false) : FLOAT_DTYPES.has(t.dtype);
    if (wanted && t.dtype !== 'float64') {
      throw new Error(`${label}: input ${i} has dtype ${t.dtype}; finite differences need float64 inputs (use .double())`);
    }
    return wanted;
  });
  if (!check.some(Boolean)) throw new Error(`${label}: no floating-point input to differentiate`);
  return check;
}

/** Checks fn's output and returns the scalar objective sum(o * w), w fixed seeded weights of out's shape. */
function weightedSum(out: Tensor, seed: number, label: string): (o: Tensor) => Tensor {
  if (!(out instanceof Tensor)) throw new Error(`${label}: fn must return a Tensor`);
  if (!FLOAT_DTYPES.has(out.dtype)) throw new Error(`${label}: fn returned dtype ${out.dtype}; a floating-point output is needed`);
  if (out.dtype !== 'float64') throw new Error(`${label}: fn returned dtype ${out.dtype}; float64 inputs should give a float64 output`);
  const shape = out.shape;
  const rnd = seededRandom(seed);
  const wData = new Float64Array(out.numel);
  for (let k = 0; k < wData.length; k++) wData[k] = 2 * rnd() - 1;
  const w = tensor(wData, shape, { dtype: 'float64' });
  if (!out.requiresGrad) {
    throw new Error(`${label}: the output does not require grad: fn's result is not connected to any checked input`);
  }
  return (o: Tensor) => {
    const s = o.shape;
    if (s.length !== shape.length || s.some((v, k) => v !== shape[k])) {
      throw new Error(`${label}: fn returned shape [${s.join(', ')}] on a perturbed input, [${shape.join(', ')}] before`);
    }
    return o.mul(w).sum();
  };
}

/**
 * Central differences of the objective over every element of input i, compared with its analytic gradient;
 * appends the elements out of tolerance to `mismatches`. Returns the element count and the largest difference.
 */
function compareInput(
  i: number,
  analytic: Float64Array,
  base: Tensor[],
  objectiveAt: (xs: Tensor[]) => number,
  { eps, atol, rtol }: Tolerances,
  mismatches: GradcheckMismatch[],
): { total: number; worst: number } {
  const xShape = base[i]!.shape;
  const data = base[i]!.toFloat64Array();
  const evalAt = (k: number, v: number): number =>
    tidy(() =>
      noGrad(() => {
        const pert = data.slice();
        pert[k] = v;
        return objectiveAt(base.map((t, j) => (j === i ? tensor(pert, xShape, { dtype: 'float64' }) : t)));
      }),
    );
  let worst = 0;
  for (let k = 0; k < data.length; k++) {
    const x0 = data[k]!;
    const numeric = (evalAt(k, x0 + eps) - evalAt(k, x0 - eps)) / (2 * eps);
    const a = analytic[k]!;
    const err = Math.abs(a - numeric);
    if (!(err <= atol + rtol * Math.abs(numeric))) {
      mismatches.push({ input: i, flatIndex: k, index: unravel(k, xShape), analytic: a, numeric });
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    }
  }
  return { total: data.length, worst };
}

/** The error naming the five worst mismatching elements. */
function mismatchError(label: string, mismatches: GradcheckMismatch[], total: number, worst: number, { eps, atol, rtol }: Tolerances): GradcheckError {
  const sorted = [...mismatches].sort((p, q) => Math.abs(q.analytic - q.numeric) - Math.abs(p.analytic - p.numeric) || 0);
  const lines = sorted
    .slice(0, 5)
    .map(
      (m) =>
        `  input ${m.input} [${m.index.join(', ')}]: analytic ${m.analytic.toPrecision(8)}, numeric ${m.numeric.toPrecision(8)}, diff ${Math.abs(m.analytic - m.numeric).toExponential(3)}`,
    );
  return new GradcheckError(
    `${label}: ${mismatches.length} of ${total} gradient elements differ from central differences ` +
      `(eps=${eps}, atol=${atol}, rtol=${rtol}; largest difference ${worst.toExponential(3)}):\n${lines.join('\n')}` +
      (mismatches.length > 5 ? `\n  ... and ${mismatches.length - 5} more` : ''),
    mismatches,
  );
}
