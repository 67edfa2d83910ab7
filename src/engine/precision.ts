// Mixed precision: libtorch's autocast (bf16 on CPU, bf16/fp16 on CUDA) around a piece of the forward pass,
// and which precision a 'auto' request resolves to on this machine. Autocast state is thread-local in
// libtorch; every op of ours runs on the JS thread, so entering and leaving around a synchronous function is
// exact. The cast copies of weights made inside are dropped when the outermost autocast region ends.
import { readFileSync } from 'node:fs';
import { native } from '../native/binding.js';
import type { Tensor } from './tensor.js';

import type { PrecisionRequest } from './precision-request.js';

export { PRECISION_REQUESTS, type PrecisionRequest } from './precision-request.js';
/** What actually runs. */
export type Precision = 'fp32' | 'bf16' | 'fp16';
export type AutocastDevice = 'cpu' | 'cuda';

/** Runs `fn` with autocast on `device` in `dtype`, restoring the previous state after (also on throw). */
export function autocast<T>(fn: () => T, o: { device?: AutocastDevice; dtype?: 'bfloat16' | 'float16' } = {}): T {
  const device = o.device ?? 'cpu';
  const was = native.isAutocastEnabled(device) as boolean;
  if (was) return fn(); // nested: the outer region's dtype holds, as with torch.autocast inside torch.autocast
  native.setAutocast(device, true, o.dtype ?? 'bfloat16');
  try {
    return fn();
  } finally {
    native.setAutocast(device, false);
  }
}

/** True while an autocast region is open on `device`. */
export function isAutocastEnabled(device: AutocastDevice = 'cpu'): boolean {
  return native.isAutocastEnabled(device) as boolean;
}

let nativeBf16: boolean | undefined;

/**
 * Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX-BF16). Without it oneDNN emulates bf16 and
 * autocast is slower than float32. Read once from /proc/cpuinfo (Linux); false where it cannot be read.
 */
export function cpuHasNativeBf16(): boolean {
  if (nativeBf16 === undefined) {
    let flags: string[] = [];
    try {
      const line =
        readFileSync('/proc/cpuinfo', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('flags')) ?? '';
      flags = line.split(':')[1]?.trim().split(/\s+/) ?? [];
    } catch {
      // not Linux: no way to tell, stay with float32
    }
    nativeBf16 = flags.includes('avx512_bf16') || flags.includes('amx_bf16');
  }
  return nativeBf16;
}

/**
 * The precision a request runs in on `device`: 'auto' -> bf16 on a CPU with native bf16 support, else fp32 (also on GPUs); 'fp16' only
 * on a CUDA device (CPU autocast has no useful float16 kernels).
 */
export function resolvePrecision(request: PrecisionRequest, device: string = 'cpu'): Precision {
  // On a GPU, 'auto' stays float32: whether bf16 is native depends on the GPU generation, so 'bf16' / 'fp16'
  // there are the user's explicit choice.
  if (request === 'auto') return !device.startsWith('cuda') && cpuHasNativeBf16() ? 'bf16' : 'fp32';
  if (request !== 'fp32' && request !== 'bf16' && request !== 'fp16')
    throw new Error(`precision must be 'fp32', 'bf16', 'fp16' or 'auto', got ${JSON.stringify(request)}`);
  if (request === 'fp16' && !device.startsWith('cuda')) {
    throw new Error(`precision 'fp16' needs a CUDA device (float16 autocast with a gradient scaler); this model is on '${device}': use 'bf16' or 'fp32' there`);
  }
  return request;
}

/**
 * Gives `param` the storage, strides and values of `source` in place: the same Tensor object (optimizers and
 * modules keep their handle, requiresGrad unchanged), e.g. in channels_last layout.
 */
export function replaceData(param: Tensor, source: Tensor): void {
  native.setData(param.native, source.native);
}
