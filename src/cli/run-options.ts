// --precision and --device for the commands that run a trained network (eval, embed, search, index, serve):
// they replace the run's own model.precision and load the model on that device for this invocation (train sets
// both through its config instead).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { PRECISION_REQUESTS, type PrecisionRequest } from '../engine/precision-request.js';
import { DEVICE_SETTING_EXPECTED, isDeviceSetting, type DeviceSetting } from '../training/device-setting.js';

export function precisionOption(): Option {
  return new Option('--precision <p>', "backbone compute precision: bf16 autocast, 'auto' = bf16 where the CPU has native bf16, fp16 (CUDA only)").choices(
    PRECISION_REQUESTS,
  );
}

export function deviceOption(description: string): Option {
  return new Option('--device <d>', description).argParser((v: string) => {
    if (!isDeviceSetting(v)) throw new InvalidArgumentError(`${DEVICE_SETTING_EXPECTED}.`);
    return v;
  });
}

/**
 * Adds --precision and --device to `commands` and their subcommands, except those named in `noNetwork` as
 * 'parent name' (e.g. 'index info'): a command that never loads a model would take the options and ignore them.
 */
export function addRunOptions(commands: readonly Command[], noNetwork: ReadonlySet<string> = new Set()): void {
  for (const c of commands) {
    if (c.commands.length) {
      addRunOptions(c.commands, noNetwork);
      continue;
    }
    if (noNetwork.has(`${c.parent?.name()} ${c.name()}`)) continue;
    c.addOption(precisionOption());
    c.addOption(deviceOption('where the model runs: cpu (default), cuda (GPU 0), cuda:N, or auto (a GPU when one is visible)'));
    c.hook('preAction', async (_self, action) => {
      const { precision, device } = action.opts() as { precision?: PrecisionRequest; device?: DeviceSetting };
      if (precision === undefined && device === undefined) return;
      // Loaded here, not at the top: --help and --version must not load the native addon.
      const { overrideRunExecution } = await import('../training/run-files.js');
      overrideRunExecution({ precision, device });
    });
  }
}
