// `ccp-dml train --nproc N`: this process becomes a local launcher (torchrun --standalone style) that starts N
// ranks of the same command, each with the torchrun variables and 1/N of the threads; a rank (WORLD_SIZE set,
// here or by torchrun, Slurm, Kubernetes, an ssh loop) joins the group and trains its share.
import { availableParallelism } from 'node:os';
import { launchLocal, isDistributedLaunch, readLaunchEnv, ProcessGroup, type RankExit } from '../distributed/index.js';
import { backendFor, resolveDevice, type DeviceSetting } from '../training/device.js';

/** The command line without `--nproc N` / `--nproc=N` (the ranks must not launch again). */
export function withoutNproc(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--nproc') i++;
    else if (!args[i]!.startsWith('--nproc=')) out.push(args[i]!);
  }
  return out;
}

function describeExit(e: RankExit): string {
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

/** Starts `nproc` local ranks of this very command; resolves when all ended, throws naming the first failing rank. */
export async function launchTrainRanks(nproc: number, threads: number | undefined): Promise<void> {
  const r = await launchLocal({
    nproc,
    script: process.argv[1]!,
    args: withoutNproc(process.argv.slice(2)),
    threads: threads ?? availableParallelism(),
    // Rank 0 speaks for the run; the others' lines (errors) are prefixed with their rank.
    onLine: (rank, stream, line) => (stream === 'stdout' ? process.stdout : process.stderr).write(rank === 0 ? `${line}\n` : `[rank ${rank}] ${line}\n`),
  });
  if (r.firstFailure) {
    const stopped = r.ranks.filter((x) => x.stoppedByLauncher).map((x) => x.rank);
    throw new Error(
      `rank ${r.firstFailure.rank} of ${nproc} ${describeExit(r.firstFailure)}` +
        (stopped.length ? `; rank(s) ${stopped.join(', ')} were stopped` : '') +
        '; checkpoints are written atomically: rerun with --resume to continue from the last one',
    );
  }
}

/**
 * This process's group when started as a rank (WORLD_SIZE set), else null. A run on GPUs joins with NCCL where
 * the addon has it (each rank on GPU LOCAL_RANK), a CPU run with Gloo.
 */
export function joinGroupIfLaunched(timeoutSeconds: number | undefined, device: DeviceSetting): ProcessGroup | null {
  if (!isDistributedLaunch()) return null;
  const { localRank } = readLaunchEnv(process.env);
  const backend = backendFor(resolveDevice(device, { localRank }).device, ProcessGroup.availableBackends());
  return ProcessGroup.fromEnv({ backend, ...(timeoutSeconds !== undefined ? { timeoutMs: Math.round(timeoutSeconds * 1000) } : {}) });
}
