// Launching bench:dist's ranks, ours and PyTorch's, one thread per process; each returns rank 0's last stdout
// line parsed as JSON. Used by bench/dist.bench.ts and by its tests.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, launchLocal } from '../../src/distributed/index.js';
import { SYSTEM_PYTHON } from '../common/index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, seen from dist/bench/ranks/. */
const repoRoot = join(here, '..', '..', '..');

/**
 * Python gets the glibc malloc settings our addon applies with mallopt (as in bench:train), so that neither side
 * pays page faults the other does not.
 */
export const PYTHON_ENV: Record<string, string> = process.env.CCP_DML_NO_MALLOPT
  ? {}
  : { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824' };

export interface LaunchRanksOptions {
  /** Pass the ranks' stderr lines through, prefixed (default true); they are in the error either way. */
  echoStderr?: boolean;
}

const TAIL = 20;

function tailOf(lines: string[]): string {
  return lines.slice(-TAIL).join('\n');
}

/**
 * Our ranks (one thread each) running bench/ranks/<script> (a compiled .js next to this file) under the
 * library's launcher; rank 0's last stdout line, parsed. A failing rank's exit and stderr are in the error.
 */
export async function ourRanks<T = Record<string, number[]>>(nproc: number, script: string, args: string[], o: LaunchRanksOptions = {}): Promise<T> {
  let out = '';
  const stderr: string[] = [];
  const r = await launchLocal({
    nproc,
    threads: nproc,
    script: join(here, script),
    args,
    onLine: (rank, stream, line) => {
      if (rank === 0 && stream === 'stdout') out = line;
      else if (stream === 'stderr') {
        stderr.push(`[ours ${rank}] ${line}`);
        if (o.echoStderr !== false) process.stderr.write(`[ours ${rank}] ${line}\n`);
      }
    },
  });
  if (r.exitCode !== 0) throw new Error(`our ranks failed: ${JSON.stringify(r.firstFailure)}\n${tailOf(stderr)}`);
  return JSON.parse(out) as T;
}

/**
 * PyTorch ranks (one thread each, env:// rendezvous) running bench/python/<script> with SYSTEM_PYTHON; rank 0's
 * last stdout line, parsed. A failing rank's exit code and stderr are in the error.
 */
export async function pytorchRanks<T = Record<string, number[]>>(nproc: number, script: string, args: string[]): Promise<T> {
  const port = await freeLoopbackPort();
  const path = join(repoRoot, 'bench', 'python', script);
  const outs = await Promise.all(
    Array.from(
      { length: nproc },
      (_, rank) =>
        new Promise<string>((resolve, reject) => {
          const env = {
            ...process.env,
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: String(port),
            WORLD_SIZE: String(nproc),
            RANK: String(rank),
            OMP_NUM_THREADS: '1',
            ...PYTHON_ENV,
          };
          const p = spawn(SYSTEM_PYTHON, [path, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d) => (stdout += d));
          p.stderr.on('data', (d) => (stderr += d));
          p.on('error', reject);
          p.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`python rank ${rank} exited ${code}: ${stderr}`))));
        }),
    ),
  );
  return JSON.parse(outs[0]!.trim().split('\n').pop()!) as T;
}
