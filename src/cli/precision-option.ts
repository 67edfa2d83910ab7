// --precision for the commands that run a trained network (eval, embed, search, index, serve): it replaces the
// run's own model.precision for this invocation (train sets it through the config instead).
import { Option, type Command } from 'commander';
import { PRECISION_REQUESTS, type PrecisionRequest } from '../engine/precision-request.js';

export function precisionOption(): Option {
  return new Option('--precision <p>', "backbone compute precision: bf16 autocast, 'auto' = bf16 where the CPU has native bf16, fp16 (CUDA only)").choices(
    PRECISION_REQUESTS,
  );
}

/** Adds --precision to `commands` and their subcommands. */
export function addPrecisionOption(commands: readonly Command[]): void {
  for (const c of commands) {
    if (c.commands.length) {
      addPrecisionOption(c.commands);
      continue;
    }
    c.addOption(precisionOption());
    c.hook('preAction', async (_self, action) => {
      const p = action.opts().precision as PrecisionRequest | undefined;
      if (p === undefined) return;
      // Loaded here, not at the top: --help and --version must not load the native addon.
      const { overrideRunPrecision } = await import('../training/run-files.js');
      overrideRunPrecision(p);
    });
  }
}
