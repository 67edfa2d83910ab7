// Embedding normalisation, the one home of N(v): used by every loss (with its exact gradient) and by evaluation,
// index, report and export (on plain tensors). Spec §1.5, code `framework/layers/l2_normalization.py`.
//
//   N(v) = v           if ||v|| <= 1
//   N(v) = v / ||v||   if ||v|| > 1          ("Lipschitz" L2 normalisation, the paper's default)
//
// Backward (spec §1.5): identity when ||v|| <= 1; (g - <N(v), g> N(v)) / ||v|| otherwise.
import type { Tensor } from './tensor.js';
import { customOp, isGradEnabled } from './autograd.js';
import { keep } from './scope.js';
import { normalize } from './functional.js';

/** How a loss normalises embeddings and reference vectors (proxies, memory items) before comparing them. */

export const EMBEDDING_NORMALIZATIONS = ['lipschitz', 'l2', 'none'] as const;
export type EmbeddingNormalization = (typeof EMBEDDING_NORMALIZATIONS)[number];

export interface LipschitzNormalizeOptions {
  /**
   * 'custom': a customOp whose backward is the spec's formula, written out (default on CPU).
   * 'autograd': v / max(||v||, 1) differentiated by autograd. It has the same gradient everywhere except
   * exactly on ||v|| = 1, and it is used on non-CPU devices, where a JS backward cannot run.
   */
  impl?: 'custom' | 'autograd';
}

/** N(v) along the last dimension (rows of a [n, D] matrix), with the spec's exact gradient. */
export function lipschitzNormalize(v: Tensor, options: LipschitzNormalizeOptions = {}): Tensor {
  const impl = options.impl ?? (v.device === 'cpu' ? 'custom' : 'autograd');
  if (impl === 'autograd' || !v.requiresGrad || !isGradEnabled()) {
    return v.div(v.norm(2, -1, true).clampMin(1));
  }
  // Tensors the backward needs. keep() takes them out of every tidy scope so that a backward() called after the
  // caller's scope ended still finds them. The first backward frees them at once (a 4 MB proxy matrix would
  // otherwise wait for V8's GC, every step); a second backward through a retained graph recomputes them from `v`.
  let nv: Tensor | undefined;
  let norm: Tensor | undefined;
  return customOp(
    [v],
    (x) => {
      norm = keep(x.norm(2, -1, true));
      nv = keep(x.div(norm.clampMin(1)));
      // The output shares nv's storage (no copy): customOp disposes this alias, autograd keeps its own.
      return nv.detach();
    },
    (g) => {
      if (!norm || !nv) {
        if (v.isDisposed) throw new Error('lipschitzNormalize: a second backward through a retained graph needs the input, which was disposed');
        norm = v.detach().norm(2, -1, true);
        nv = v.detach().div(norm.clampMin(1));
      }
      const n = norm;
      const y = nv;
      norm = undefined;
      nv = undefined;
      // (g - <y, g> y) / n where n > 1, else g; temporaries are freed as soon as they are used.
      const yg = y.mul(g);
      const dot = yg.sum(-1, true);
      yg.dispose();
      const ydot = y.mul(dot);
      y.dispose();
      const diff = g.sub(ydot);
      ydot.dispose();
      const projected = diff.div(n);
      diff.dispose();
      const out = projected.where(n.gt(1), g);
      projected.dispose();
      n.dispose();
      return [out];
    },
  );
}

/** Plain L2 normalisation v / max(||v||, 1e-12) (autograd gradient). */
export function l2Normalize(v: Tensor): Tensor {
  return normalize(v, 2, -1, 1e-12);
}

/** Applies the chosen normalisation to the rows of `v`. */
export function normalizeEmbeddings(v: Tensor, mode: EmbeddingNormalization): Tensor {
  switch (mode) {
    case 'lipschitz':
      return lipschitzNormalize(v);
    case 'l2':
      return l2Normalize(v);
    case 'none':
      return v;
    default:
      throw new Error(`embeddingNormalization must be one of ${EMBEDDING_NORMALIZATIONS.join(', ')}, got '${String(mode)}'`);
  }
}

/** Validates an embeddingNormalization option value (undefined gives the default). */
export function checkNormalization(mode: unknown, fallback: EmbeddingNormalization, where: string): EmbeddingNormalization {
  if (mode === undefined) return fallback;
  if (!EMBEDDING_NORMALIZATIONS.includes(mode as EmbeddingNormalization)) {
    throw new Error(`${where}: embeddingNormalization must be one of ${EMBEDDING_NORMALIZATIONS.join(', ')}, got '${String(mode)}'`);
  }
  return mode as EmbeddingNormalization;
}
