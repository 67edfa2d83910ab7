// Autograd helpers: grad-mode control, functional gradients, and ops with a backward written in TypeScript.
import { native, type NativeTensor } from '../native/binding.js';
import { Tensor } from './tensor.js';
import { tidy } from './scope.js';

/** Runs fn with gradient tracking off (like torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false) as boolean;
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs fn with gradient tracking on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(true) as boolean;
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/**
 * Runs fn in libtorch's inference mode (torch.inference_mode): like noGrad, and further no version counters or
 * view tracking, so small ops are cheaper. Tensors created inside are inference tensors: autograd refuses to
 * save them for backward later (libtorch's error names the cause; clone() gives a normal tensor). For
 * embedding, evaluation and other pure forward passes; fn must be synchronous.
 */
export function inferenceMode<T>(fn: () => T): T {
  native.enterInferenceMode();
  let result: T;
  try {
    result = fn();
  } finally {
    native.exitInferenceMode();
  }
  if (result instanceof Promise) throw new Error('inferenceMode() received an async function; the mode is per call stack and cannot span an await');
  return result;
}

/** True inside inferenceMode. */
export function isInferenceModeEnabled(): boolean {
  return native.isInferenceModeEnabled();
}

/** True for a tensor created inside inferenceMode. */
export function isInferenceTensor(t: Tensor): boolean {
  return native.isInferenceTensor(t.native);
}

/**
 * A value that changes whenever t's contents may have changed (an in-place op, or set_data giving it other
 * storage); null for an inference tensor, which keeps no version. For caches of values derived from t.
 */
export function tensorStamp(t: Tensor): string | null {
  return native.tensorStamp(t.native);
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled() as boolean;
}

/** Gradients of outputs w.r.t. inputs (torch.autograd.grad); null where an input is unused. */
export function grad(
  outputs: Tensor[],
  inputs: Tensor[],
  options: { gradOutputs?: Tensor[]; retainGraph?: boolean; createGraph?: boolean } = {},
): (Tensor | null)[] {
  const res = native.grad(
    outputs.map((t) => t.native),
    inputs.map((t) => t.native),
    options.gradOutputs ? options.gradOutputs.map((t) => t.native) : null,
    options.retainGraph ?? false,
    options.createGraph ?? false,
    true,
  ) as (NativeTensor | null)[];
  return res.map((h) => (h ? Tensor.wrap(h) : null));
}

// Gradient handles given to the addon by a custom backward. The addon reads them as soon as the JS callback
// returns, so they are released at the start of the next custom backward or once the current JS job ends
// (whichever comes first: a long synchronous loop never reaches the microtask).
const handedOver: NativeTensor[] = [];
let releaseScheduled = false;
function releaseHandedOver(): void {
  releaseScheduled = false;
  for (const h of handedOver.splice(0)) native.tensorDispose(h);
}

/**
 * Defines an op with a custom backward. `forward` receives detached inputs and runs without grad;
 * `backward` receives the output gradient and returns one gradient (or null) per input. Tensors that
 * forward/backward need later can be captured in closures. Backward runs on CPU tensors only.
 */
export function customOp(inputs: Tensor[], forward: (...xs: Tensor[]) => Tensor, backward: (gradOutput: Tensor) => (Tensor | null)[]): Tensor {
  const out = tidy(() => noGrad(() => forward(...inputs.map((t) => t.detach()))));
  const result = Tensor.wrap(
    native.customOp(
      inputs.map((t) => t.native),
      out.native,
      (g: NativeTensor | null) => {
        if (!g) return inputs.map(() => null);
        // Every wrapper made here (gradOut, the backward's temporaries and results) is disposed when this
        // tidy ends; autograd receives fresh aliases of the gradients, released once backward() returns.
        let handles: (NativeTensor | null)[] = [];
        tidy(() => {
          const grads: unknown = noGrad(() => backward(Tensor.wrap(g)));
          if (!Array.isArray(grads)) {
            throw new Error(
              `customOp: backward must return an array with one gradient (or null) per input, got ${grads instanceof Tensor ? 'a single Tensor (wrap it in an array)' : grads === null ? 'null' : typeof grads}`,
            );
          }
          if (grads.length !== inputs.length) {
            throw new Error(`customOp: backward returned ${grads.length} gradients for ${inputs.length} inputs`);
          }
          handles = grads.map((t, i) => {
            if (t === null || t === undefined) return null;
            if (!(t instanceof Tensor)) throw new Error(`customOp: backward returned ${typeof t} as gradient ${i}; expected a Tensor or null`);
            if (t.isDisposed) throw new Error(`customOp: backward returned a disposed tensor as gradient ${i}`);
            return native.detach(t.native) as NativeTensor;
          });
        });
        releaseHandedOver();
        for (const h of handles) if (h) handedOver.push(h);
        if (!releaseScheduled) {
          releaseScheduled = true;
          queueMicrotask(releaseHandedOver);
        }
        return handles;
      },
    ),
  );
  out.dispose();
  return result;
}
