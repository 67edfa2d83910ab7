// The torchrun conventions, so one command runs under torchrun-style launchers, Slurm, Kubernetes or an ssh
// loop: MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK.
import { DistributedError } from './errors.js';

export interface LaunchEnv {
  masterAddr: string;
  masterPort: number;
  worldSize: number;
  rank: number;
  localRank: number;
}

function intVar(env: NodeJS.ProcessEnv, name: string, min: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new DistributedError(`environment variable ${name} is not set (torchrun conventions: MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK)`, 'env');
  }
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min) {
    throw new DistributedError(`environment variable ${name}=${JSON.stringify(raw)} must be an integer >= ${min}`, 'env');
  }
  return n;
}

/** Reads and checks the launch variables; LOCAL_RANK defaults to RANK (one process per machine otherwise). */
export function readLaunchEnv(env: NodeJS.ProcessEnv = process.env): LaunchEnv {
  const masterAddr = env.MASTER_ADDR;
  if (!masterAddr) throw new DistributedError('environment variable MASTER_ADDR is not set (the host name or address of rank 0)', 'env');
  const masterPort = intVar(env, 'MASTER_PORT', 1);
  if (masterPort > 65535) throw new DistributedError(`environment variable MASTER_PORT=${masterPort} must be at most 65535`, 'env');
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  const rank = intVar(env, 'RANK', 0);
  if (rank >= worldSize) throw new DistributedError(`RANK=${rank} must be below WORLD_SIZE=${worldSize}`, 'env');
  const localRank = intVar(env, 'LOCAL_RANK', 0, rank);
  return { masterAddr, masterPort, worldSize, rank, localRank };
}

/** True when the environment describes a distributed launch (WORLD_SIZE set). */
export function isDistributedLaunch(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.WORLD_SIZE !== undefined && env.WORLD_SIZE !== '';
}
