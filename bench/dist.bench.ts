// npm run bench:dist — data-parallel collectives, ours (c10d Gloo through the addon) vs PyTorch's
// torch.distributed (gloo), side by side in one run: all-reduce (sum) of a 25 MB float32 buffer between 2 ranks
// on loopback, one thread per rank, the two sides alternating 3 rounds; median seconds and MB/s (buffer bytes
// per second), ratio ours / PyTorch. (Step time of 1 vs 2 training processes against DDP is not measured yet.)
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed } from '../src/index.js';
import { SYSTEM_PYTHON, formatTable, median } from './common/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const BYTES = 25 * 2 ** 20;
const ITERS = 10;
const ROUNDS = 3;

async function ours(): Promise<number[]> {
  let out = '';
  const r = await distributed.launchLocal({
    nproc: 2, threads: 2, script: join(here, 'dist', 'allreduce-rank.js'), args: [String(BYTES), String(ITERS)],
    onLine: (rank, stream, line) => { if (rank === 0 && stream === 'stdout') out = line; else if (stream === 'stderr') process.stderr.write(`[ours ${rank}] ${line}\n`); },
  });
  if (r.exitCode !== 0) throw new Error(`our ranks failed: ${JSON.stringify(r.firstFailure)}`);
  return JSON.parse(out).seconds;
}

async function pytorch(): Promise<number[]> {
  const port = await distributed.freeLoopbackPort();
  const script = join(here, '..', '..', 'bench', 'python', 'dist_allreduce.py');
  const outs = await Promise.all([0, 1].map((rank) => new Promise<string>((resolve, reject) => {
    const env = { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: '2', RANK: String(rank), OMP_NUM_THREADS: '1' };
    const p = spawn(SYSTEM_PYTHON, [script, String(BYTES), String(ITERS)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`python rank ${rank} exited ${code}: ${stderr}`))));
  })));
  return JSON.parse(outs[0]!.trim().split('\n').pop()!).seconds;
}

const times = { ours: [] as number[], pytorch: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  times.ours.push(...(await ours()));
  times.pytorch.push(...(await pytorch()));
}
const mb = BYTES / 2 ** 20;
const row = (name: string, s: number[]) => [name, median(s) * 1000, mb / median(s)];
console.log(`all-reduce (sum) of ${mb} MB float32, 2 ranks on loopback, 1 thread each, ${ROUNDS} x ${ITERS} timed, median:\n`);
console.log(formatTable(['side', 'ms', 'MB/s'], [row('ours (c10d gloo via the addon)', times.ours), row('PyTorch torch.distributed gloo', times.pytorch)]));
console.log(`\nratio ours / PyTorch (time): ${(median(times.ours) / median(times.pytorch)).toFixed(3)}`);
