// Starts N local ranks of one program, as torchrun --standalone does: each child gets the torchrun variables
// (MASTER_ADDR=127.0.0.1, a free MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK) and an equal share of the CPU
// threads. The first rank that fails stops the others (they would otherwise wait for it until their collective
// timeout) after a grace period in which they may end by themselves with their own diagnosis (which rank died),
// and the launcher's exit code is that rank's.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';

const DEFAULT_GRACE_MS = 10_000;

export interface LaunchOptions {
  nproc: number;
  /** The script every rank runs (node executes it) and its arguments. */
  script: string;
  args?: string[];
  /** Threads shared by the ranks (default: all cores); each rank gets floor(threads / nproc), at least 1. */
  threads?: number;
  /** Default: a free port on loopback. */
  masterPort?: number;
  env?: NodeJS.ProcessEnv;
  /** After the first failure, how long the other ranks may take to exit by themselves before SIGTERM; default 10 s. */
  graceMs?: number;
  /** Receives each line a rank prints, for prefixing or logging; default: passed through unchanged. */
  onLine?: (rank: number, stream: 'stdout' | 'stderr', line: string) => void;
}

export interface RankExit {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the launcher stopped this rank because another one failed first. */
  stoppedByLauncher: boolean;
}

export interface LaunchResult {
  /** 0 when every rank exited 0, else the first failing rank's code (1 for a signal). */
  exitCode: number;
  firstFailure: RankExit | null;
  ranks: RankExit[];
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function relayLines(child: ChildProcess, rank: number, onLine: NonNullable<LaunchOptions['onLine']>): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    let pending = '';
    child[stream]!.setEncoding('utf8');
    child[stream]!.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) onLine(rank, stream, line);
    });
    child[stream]!.on('end', () => {
      if (pending) onLine(rank, stream, pending);
    });
  }
}

export async function launchLocal(o: LaunchOptions): Promise<LaunchResult> {
  if (!Number.isInteger(o.nproc) || o.nproc < 1) throw new Error(`--nproc must be an integer >= 1, got ${o.nproc}`);
  const threads = o.threads ?? availableParallelism();
  const perRank = Math.max(1, Math.floor(threads / o.nproc));
  const port = o.masterPort ?? (await freeLoopbackPort());
  const graceMs = o.graceMs ?? DEFAULT_GRACE_MS;
  const onLine = o.onLine ?? ((_rank, stream, line) => (stream === 'stdout' ? process.stdout : process.stderr).write(line + '\n'));
  const children: ChildProcess[] = [];
  const exits: RankExit[] = [];
  let firstFailure: RankExit | null = null;
  const stopped = new Set<number>();
  await new Promise<void>((resolve) => {
    for (let rank = 0; rank < o.nproc; rank++) {
      const env = {
        ...(o.env ?? process.env),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        WORLD_SIZE: String(o.nproc),
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        LOCAL_WORLD_SIZE: String(o.nproc),
        CCP_DML_THREADS: String(perRank),
        OMP_NUM_THREADS: String(perRank),
      };
      const child = spawn(process.execPath, [o.script, ...(o.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      relayLines(child, rank, onLine);
      child.on('close', (code, signal) => {
        const exit: RankExit = { rank, code, signal, stoppedByLauncher: stopped.has(rank) };
        exits.push(exit);
        if ((code !== 0 || signal) && !firstFailure && !exit.stoppedByLauncher) {
          firstFailure = exit;
          const stopRest = () =>
            children.forEach((c, r) => {
              if (c.exitCode === null && c.signalCode === null) {
                stopped.add(r);
                c.kill('SIGTERM');
              }
            });
          if (graceMs > 0) setTimeout(stopRest, graceMs).unref();
          else stopRest();
        }
        if (exits.length === o.nproc) resolve();
      });
    }
  });
  exits.sort((a, b) => a.rank - b.rank);
  const f = firstFailure as RankExit | null;
  return { exitCode: f ? (f.code && f.code !== 0 ? f.code : 1) : 0, firstFailure: f, ranks: exits };
}
