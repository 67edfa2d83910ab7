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
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const label = options.name ? `gradcheck(${options.name})` : 'gradcheck';
  const check = inputs.map((t, i) => {
    const wanted = options.checkInputs ? (options.checkInputs[i] ?? false) : FLOAT_DTYPES.has(t.dtype);
    if (wanted && t.dtype !== 'float64') {
      throw new Error(`${label}: input ${i} has dtype ${t.dtype}; finite differences need float64 inputs (use .double())`);
    }
    return wanted;
  });
  if (!check.some(Boolean)) throw new Error(`${label}: no floating-point input to differentiate`);

  return tidy(() => {
    const base = inputs.map((t) => t.detach().clone());
    const leaves = base.map((t, i) => (check[i] ? t.detach().clone().requireGrad() : t));
    const out = fn(...leaves);
    if (!(out instanceof Tensor)) throw new Error(`${label}: fn must return a Tensor`);
    if (!FLOAT_DTYPES.has(out.dtype)) throw new Error(`${label}: fn returned dtype ${out.dtype}; a floating-point output is needed`);
    if (out.dtype !== 'float64') throw new Error(`${label}: fn returned dtype ${out.dtype}; float64 inputs should give a float64 output`);
    const shape = out.shape;
    const rnd = seededRandom(options.seed ?? 1234);
    const wData = new Float64Array(out.numel);
    for (let k = 0; k < wData.length; k++) wData[k] = 2 * rnd() - 1;
    const w = tensor(wData, shape, { dtype: 'float64' });
    if (!out.requiresGrad) {
      throw new Error(`${label}: the output does not require grad: fn's result is not connected to any checked input`);
    }
    const objective = (o: Tensor) => {
      const s = o.shape;
      if (s.length !== shape.length || s.some((v, k) => v !== shape[k])) {
        throw new Error(`${label}: fn returned shape [${s.join(', ')}] on a perturbed input, [${shape.join(', ')}] before`);
      }
      return o.mul(w).sum();
    };
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
      const xShape = base[i]!.shape;
      const data = base[i]!.toFloat64Array();
      const evalAt = (k: number, v: number): number =>
        tidy(() =>
          noGrad(() => {
            const pert = data.slice();
            pert[k] = v;
            const xs = base.map((t, j) => (j === i ? tensor(pert, xShape, { dtype: 'float64' }) : t));
            return objective(fn(...xs)).item();
          }),
        );
      for (let k = 0; k < data.length; k++) {
        const x0 = data[k]!;
        const numeric = (evalAt(k, x0 + eps) - evalAt(k, x0 - eps)) / (2 * eps);
        const a = analytic[k]!;
        total++;
        const err = Math.abs(a - numeric);
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          mismatches.push({ input: i, flatIndex: k, index: unravel(k, xShape), analytic: a, numeric });
          worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
        }
      }
    }
    if (mismatches.length > 0) {
      const sorted = [...mismatches].sort((p, q) => Math.abs(q.analytic - q.numeric) - Math.abs(p.analytic - p.numeric) || 0);
      const lines = sorted
        .slice(0, 5)
        .map(
          (m) =>
            `  input ${m.input} [${m.index.join(', ')}]: analytic ${m.analytic.toPrecision(8)}, numeric ${m.numeric.toPrecision(8)}, diff ${Math.abs(m.analytic - m.numeric).toExponential(3)}`,
        );
      throw new GradcheckError(
        `${label}: ${mismatches.length} of ${total} gradient elements differ from central differences ` +
          `(eps=${eps}, atol=${atol}, rtol=${rtol}; largest difference ${worst.toExponential(3)}):\n${lines.join('\n')}` +
          (mismatches.length > 5 ? `\n  ... and ${mismatches.length - 5} more` : ''),
        mismatches,
      );
    }
    return true as const;
  });
}
