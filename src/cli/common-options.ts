// Options every command takes: --threads (torch intra-op threads) and -q/--quiet (no progress output).
import type { Command } from 'commander';

function threadCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--threads must be a positive integer, got '${v}'`);
  return n;
}

/** Adds --threads and -q to every command that runs something (the leaves of the command tree). */
export function addCommonOptions(program: Command): void {
  const visit = (c: Command) => {
    if (c.commands.length) return c.commands.forEach(visit);
    const has = (flag: string) => c.options.some((o) => o.long === flag);
    if (!has('--threads')) c.option('--threads <n>', 'torch threads (default: all cores, or CCP_DML_THREADS)', threadCount);
    if (!has('--quiet')) c.option('-q, --quiet', 'no progress output');
  };
  program.commands.forEach(visit);
}

/**
 * Runs before a command's action, before anything loads the native addon: the addon reads CCP_DML_THREADS when it
 * loads (train also passes --threads through its config).
 */
export function applyCommonOptions(o: Record<string, unknown>): void {
  if (typeof o.threads === 'number') process.env.CCP_DML_THREADS = String(o.threads);
}
