// Starting the ranks of a distributed test as child processes of the test, each with its own RANK, and
// collecting what each printed. Every rank runs with one thread (results do not depend on the CPU).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WorkerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runWorker(script: string, env: Record<string, string>, onSpawn?: (child: ChildProcess) => void): Promise<WorkerResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, CCP_DML_THREADS: '1', OMP_NUM_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
}

/** Runs `worldSize` ranks of `script`; `env(rank)` adds each rank's variables. */
export function runRanks(script: string, worldSize: number, env: (rank: number) => Record<string, string>): Promise<WorkerResult[]> {
  return Promise.all(
    Array.from({ length: worldSize }, (_, rank) =>
      runWorker(script, { RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(worldSize), ...env(rank) }),
    ),
  );
}

/** The JSON object a rank printed last; fails the test when the rank did not exit 0. */
export function lastJson(r: WorkerResult, rank: number) {
  assert.equal(r.code, 0, `rank ${rank} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ccp-dml-dist-'));
  return Promise.resolve()
    .then(() => fn(dir))
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

/**
 * `ccp-dml train` arguments of a tiny data-parallel run on makeTinyRun's image folder: an MLP (D = 4), C2, 3 x 2
 * batches, validation on 40% of the images, no report, quiet, `--nproc 2`; `extra` is appended.
 */
export function tinyNprocTrainArgs(imagesDir: string, outDir: string, epochs: number, stepsPerEpoch: number, extra: string[] = []): string[] {
  return [
    'train',
    ...['--dataset', 'folder', '--data-root', imagesDir],
    ...['--set', 'dataset.validation=samples', '--set', 'dataset.validationShare=0.4'],
    ...['--model', 'mlp', '--embedding-dim', '4', '--loss', 'contrastive'],
    ...['--epochs', String(epochs), '--steps-per-epoch', String(stepsPerEpoch)],
    ...['--set', 'training.classesPerBatch=3', '--set', 'training.samplesPerClass=2'],
    ...['--out', outDir, '--name', 'r', '--no-report', '-q', '--nproc', '2'],
    ...extra,
  ];
}
