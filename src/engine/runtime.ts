// Process-wide engine settings: seeding, thread count, devices, version.
import { native } from '../native/binding.js';

/** Seeds torch's generators (weights init, rand*, dropout, randperm). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

/**
 * Sets the number of intra-op threads (default: all available cores, or $CCP_DML_THREADS), and OpenBLAS's, where
 * libtorch multiplies with it (Debian's build): its own pool would otherwise keep the size it had at load and spin
 * on the cores left free.
 */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

/** OpenBLAS's thread count, which setNumThreads keeps equal to torch's; 0 where libtorch uses another BLAS (MKL). */
export function getBlasThreads(): number {
  return native.getBlasThreads();
}

export function getNumThreads(): number {
  return native.getNumThreads() as number;
}

export function cudaIsAvailable(): boolean {
  return native.cudaIsAvailable() as boolean;
}

/** GPUs visible to a CUDA build of libtorch (0 on CPU builds). */
export function cudaDeviceCount(): number {
  return native.cudaDeviceCount() as number;
}

/** 'cuda' when a CUDA build of libtorch sees a GPU, else 'cpu'. */
export function defaultDevice(): string {
  return cudaIsAvailable() ? 'cuda' : 'cpu';
}

export const torchVersion: string = native.torchVersion;
