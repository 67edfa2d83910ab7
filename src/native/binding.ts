// Loads the compiled libtorch addon and configures threads. Everything numeric goes through here.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

/** Opaque handle to a torch::Tensor owned by the addon. */
export interface NativeTensor {
  shape(): number[];
  dtype(): string;
  device(): string;
  numel(): number;
  nbytes(): number;
  toTypedArray(dtype?: string): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
  item(): number | boolean;
  dispose(): void;
  /** Reports the tensor's storage to V8 as external memory (once; views of a counted storage add nothing). */
  accountMemory(): void;
  isDisposed(): boolean;
  requiresGrad(): boolean;
  setRequiresGrad(flag: boolean): void;
  grad(): NativeTensor | null;
  setGrad(g: NativeTensor | null): void;
  isLeaf(): boolean;
  gradFnName(): string | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeBinding = Record<string, (...args: any[]) => any> & { torchVersion: string };

const ADDON = 'build/Release/ccp_dml_native.node';

function findAddon(): string {
  if (process.env.CCP_DML_ADDON) return process.env.CCP_DML_ADDON;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`ccp-dml native addon not found (${ADDON}). Build it with 'npm run build:native' (needs libtorch-dev, see README).`);
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const binding = require(findAddon()) as NativeBinding;
  const fromEnv = process.env.CCP_DML_THREADS ? Number(process.env.CCP_DML_THREADS) : NaN;
  // torch defaults to 1 thread on this kind of machine; use every available core unless told otherwise.
  binding.setNumThreads(Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism());
  return binding;
}

export const native: NativeBinding = load();
