// Runs a Python benchmark script side by side: a long-lived worker that answers one JSON request per line
// on stdin with one JSON reply per line on stdout. Requests are sent one at a time, so the two sides never
// run at the same time and can be interleaved (ours, Python, ours, ...).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';

/** Debian's python3 with python3-torch (a plain `python3` on PATH may be a pyenv without torch). */
export const SYSTEM_PYTHON = process.env.CCP_DML_PYTHON ?? '/usr/bin/python3';

/** The allocator ccp-dml's addon uses (Debian's libtcmalloc-minimal4), preloaded into the "PyTorch levers" workers. */
export const TCMALLOC = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4';

/** The environment of a "PyTorch levers" worker: our allocator preloaded, where it is installed. */
export function leversEnv(): NodeJS.ProcessEnv {
  return existsSync(TCMALLOC) ? { LD_PRELOAD: TCMALLOC } : {};
}

export class PythonWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private readonly queued: string[] = [];
  private stderr = '';
  private exited: string | null = null;

  constructor(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(SYSTEM_PYTHON, ['-u', script, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = `python exited (code ${code}, signal ${signal}): ${this.stderr.trim()}`;
      for (const p of this.pending.splice(0)) p(JSON.stringify({ error: this.exited }));
    });
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (line) => {
      const p = this.pending.shift();
      if (p) p(line);
      else this.queued.push(line);
    });
  }

  private nextLine(): Promise<string> {
    const q = this.queued.shift();
    if (q !== undefined) return Promise.resolve(q);
    if (this.exited) return Promise.resolve(JSON.stringify({ error: this.exited }));
    return new Promise((resolve) => this.pending.push(resolve));
  }

  /** Waits for the worker's first line (its hello message, e.g. versions) and returns it parsed. */
  async ready<T = Record<string, unknown>>(): Promise<T> {
    const line = await this.nextLine();
    const msg = JSON.parse(line) as { error?: string } & T;
    if (msg.error) throw new Error(`python worker: ${msg.error}`);
    return msg;
  }

  /** Sends one request and waits for its reply; rejects with Python's error message. */
  async request<T = unknown>(msg: Record<string, unknown>): Promise<T> {
    if (this.exited) throw new Error(this.exited);
    this.proc.stdin.write(JSON.stringify(msg) + '\n');
    const line = await this.nextLine();
    let reply: { error?: string } & T;
    try {
      reply = JSON.parse(line);
    } catch {
      throw new Error(`python worker sent a non-JSON line: ${line.slice(0, 200)}\n${this.stderr}`);
    }
    if (reply.error) throw new Error(`python worker: ${reply.error}`);
    return reply;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin.end();
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    if (!this.exited) this.proc.kill();
  }
}
