// Saving and loading module weights and optimizer state as safetensors files.
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerScalars } from '../optim/optimizer.js';
import { loadSafetensors, saveSafetensors } from './safetensors.js';

/** Metadata key holding the optimizer's JSON scalars. */
export const OPTIMIZER_METADATA_KEY = 'optimizer';

/** Writes the module's parameters and buffers (PyTorch-style dotted names) to `path`, atomically. */
export function saveModule(path: string, module: Module, metadata: Record<string, string> = {}): void {
  saveSafetensors(path, module.stateDict(), metadata);
}

/**
 * Loads weights saved by saveModule (or by PyTorch's safetensors `save_file(model.state_dict())`) into
 * `module`. With strict (default), missing or unexpected names throw; shape mismatches always throw.
 */
export function loadModule(
  path: string,
  module: Module,
  options: { strict?: boolean } = {},
): { missing: string[]; unexpected: string[]; metadata: Record<string, string> } {
  const file = loadSafetensors(path);
  try {
    const r = module.loadStateDict(file, options.strict ?? true);
    return { ...r, metadata: file.metadata };
  } catch (err) {
    throw new Error(`loadModule: ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    file.dispose();
  }
}

/** Writes the optimizer state: tensors by name, scalars (hyperparameters, steps) as JSON in the metadata. */
export function saveOptimizer(path: string, optimizer: Optimizer, metadata: Record<string, string> = {}): void {
  const { tensors, scalars } = optimizer.stateDict();
  if (OPTIMIZER_METADATA_KEY in metadata) throw new Error(`saveOptimizer: metadata key '${OPTIMIZER_METADATA_KEY}' is reserved`);
  saveSafetensors(path, tensors, { ...metadata, [OPTIMIZER_METADATA_KEY]: JSON.stringify(scalars) });
}

/** Restores a state written by saveOptimizer into an optimizer over the same parameters. Returns the metadata. */
export function loadOptimizer(path: string, optimizer: Optimizer): Record<string, string> {
  const file = loadSafetensors(path);
  try {
    const raw = file.metadata[OPTIMIZER_METADATA_KEY];
    if (raw === undefined) throw new Error(`no '${OPTIMIZER_METADATA_KEY}' entry in the metadata (not an optimizer file?)`);
    let scalars: OptimizerScalars;
    try {
      scalars = JSON.parse(raw) as OptimizerScalars;
    } catch (err) {
      throw new Error(`metadata '${OPTIMIZER_METADATA_KEY}' is not valid JSON (${(err as Error).message})`);
    }
    optimizer.loadStateDict({ tensors: file, scalars });
    return { ...file.metadata };
  } catch (err) {
    throw new Error(`loadOptimizer: ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    file.dispose();
  }
}
