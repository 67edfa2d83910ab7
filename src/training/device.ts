// The run's `device` key resolved against the libtorch this process loaded: 'cpu', 'cuda' (this rank's GPU:
// LOCAL_RANK under a launcher, else GPU 0), 'cuda:N', or 'auto' (CUDA when visible, else the CPU). A CUDA device
// that cannot be used is refused up front, naming the key and the reason, instead of failing at the first op.
import { cudaIsAvailable, cudaDeviceCount } from '../engine/index.js';
import type { DeviceSetting } from './device-setting.js';

export type { DeviceSetting };
export type Device = 'cpu' | `cuda:${number}`;

export interface ResolvedDevice {
  device: Device;
  /** Why this device (recorded in the run's execution record). */
  reason: string;
}

export interface DeviceProbe {
  cudaAvailable: () => boolean;
  /** GPUs visible to this process. */
  cudaDevices: () => number;
}

const realProbe: DeviceProbe = { cudaAvailable: cudaIsAvailable, cudaDevices: cudaDeviceCount };

/**
 * `localRank`: this process's rank on its machine in a data-parallel run; 'cuda' and 'auto' then take GPU
 * `localRank` (one process per GPU, as torchrun users expect). `source` names the setting in errors and
 * reasons (default: the config key; the commands that load a run pass '--device').
 */
export function resolveDevice(setting: DeviceSetting, options: { localRank?: number; probe?: DeviceProbe; source?: string } = {}): ResolvedDevice {
  const probe = options.probe ?? realProbe;
  const localRank = options.localRank ?? 0;
  const source = options.source ?? "config key 'device'";
  if (setting === 'cpu') return { device: 'cpu', reason: `device: cpu (${options.source ?? 'config'})` };
  const cuda = probe.cudaAvailable();
  if (setting === 'auto' && !cuda) return { device: 'cpu', reason: 'device: auto -> cpu (the libtorch loaded has no CUDA support or no GPU is visible)' };
  if (!cuda) {
    throw new Error(
      `${source} is '${setting}', but CUDA is unavailable: the libtorch this addon loaded has no CUDA ` +
        `support or no GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES); use 'cpu' or 'auto'`,
    );
  }
  const count = probe.cudaDevices();
  const explicit = setting.startsWith('cuda:');
  const index = explicit ? Number(setting.slice(5)) : localRank;
  if (index >= count) {
    const why = explicit ? '' : ` (GPU ${index} = this process's LOCAL_RANK: start at most one process per GPU)`;
    throw new Error(`${source} is '${setting}', but only ${count} GPU(s) are visible${why}; check CUDA_VISIBLE_DEVICES`);
  }
  const device: Device = `cuda:${index}`;
  return { device, reason: setting === 'auto' ? `device: auto -> ${device} (a CUDA device is visible)` : `device: ${setting} -> ${device}` };
}

/**
 * A data-parallel run's device and its group's backend must go together: NCCL moves GPU tensors only (a CPU run
 * uses Gloo); a GPU run may use either (Gloo reduces CUDA tensors too, NCCL is faster).
 */
export function checkBackendFor(device: Device, group: { backend: string }): void {
  if (device === 'cpu' && group.backend === 'nccl') {
    throw new Error(`config key 'device' is cpu, but the process group uses NCCL, which reduces GPU tensors only: use the 'gloo' backend for CPU training`);
  }
}

/** The backend a data-parallel run on `device` joins with: NCCL for GPUs where this build has it, else Gloo. */
export function backendFor(device: Device, available: readonly string[]): 'gloo' | 'nccl' {
  return device !== 'cpu' && available.includes('nccl') ? 'nccl' : 'gloo';
}
