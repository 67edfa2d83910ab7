// The run's `device` key resolved against the libtorch this process loaded. An explicit CUDA device that cannot
// be used is refused up front (naming the key and the reason) instead of failing at the first tensor op.
import { cudaIsAvailable } from '../engine/index.js';

export type DeviceSetting = 'cpu' | 'cuda' | 'auto' | `cuda:${number}`;

export interface ResolvedDevice {
  device: 'cpu' | 'cuda' | `cuda:${number}`;
  /** Why this device (recorded in the run's execution record). */
  reason: string;
}

export interface DeviceProbe {
  cudaAvailable: () => boolean;
}

const realProbe: DeviceProbe = { cudaAvailable: cudaIsAvailable };

export function resolveDevice(setting: DeviceSetting, probe: DeviceProbe = realProbe): ResolvedDevice {
  if (setting === 'cpu') return { device: 'cpu', reason: 'device: cpu (config)' };
  const cuda = probe.cudaAvailable();
  // CUDA tensors through the trainer (model, proxies, batches, evaluation) are not wired yet: 'auto' stays on the
  // CPU and says why; an explicit CUDA device is refused rather than silently trained on the CPU.
  if (setting === 'auto') {
    return cuda
      ? { device: 'cpu', reason: 'device: auto -> cpu (a CUDA device is visible, but this trainer does not train on CUDA yet)' }
      : { device: 'cpu', reason: 'device: auto -> cpu (the libtorch loaded has no CUDA support or no GPU is visible)' };
  }
  if (!cuda) {
    throw new Error(
      `config key 'device' is '${setting}', but CUDA is unavailable: the libtorch this addon loaded has no CUDA ` +
        `support or no GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES); use 'cpu' or 'auto'`,
    );
  }
  throw new Error(`config key 'device' is '${setting}': training on CUDA is not supported by this version of the trainer yet; use 'cpu' or 'auto'`);
}
