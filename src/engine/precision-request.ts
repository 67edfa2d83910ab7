// The precisions a run may ask for: the config's `model.precision` enum and the CLI's --precision choices are
// this list. Its own module, with no native code, so the CLI can build its help without loading libtorch.

/**
 * What a run asks for: 'auto' = bf16 where the CPU computes bf16 natively, float32 elsewhere; 'fp16' = float16
 * autocast, CUDA only (it needs a GradScaler in training: fp16's range is too small for raw gradients).
 */
export const PRECISION_REQUESTS = ['fp32', 'bf16', 'fp16', 'auto'] as const;
export type PrecisionRequest = (typeof PRECISION_REQUESTS)[number];
