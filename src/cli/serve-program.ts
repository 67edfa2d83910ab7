// Command-line definition of serve.
import type { Command } from 'commander';
import { DEFAULT_LIMITS } from '../serve/limits.js';

type Obj = Record<string, unknown>;

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('HTTP JSON API: health, info, embed, search (image or vector), add/remove items')
    .requiredOption('-r, --run <dir>', 'run folder (the model; its calibration.json, if any, gives matches)')
    .requiredOption('-i, --index <dir>', 'index folder built with that run')
    .option('-p, --port <n>', 'port (0: any free one)', int('--port', 0), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--max-body-mb <n>', 'largest request body (MiB)', int('--max-body-mb', 1), DEFAULT_LIMITS.bodyBytes >> 20)
    .option('--max-pixels <n>', 'largest image (width x height)', int('--max-pixels', 1), DEFAULT_LIMITS.imagePixels)
    .option('--max-k <n>', 'largest k', int('--max-k', 1), DEFAULT_LIMITS.maxK)
    .option('--concurrency <n>', 'images embedded at once', int('--concurrency', 1), DEFAULT_LIMITS.concurrency)
    .option('--queue <n>', 'embeddings waiting before 503', int('--queue', 0), DEFAULT_LIMITS.queue)
    .option('--timeout-ms <n>', 'per-request time limit', int('--timeout-ms', 100), DEFAULT_LIMITS.requestTimeoutMs)
    .action(async (o: Obj) => {
      // Loaded here, not at the top: --help stays fast and loads no native code.
      const { startServer, stopOnSignals } = await import('../serve/index.js');
      const run = (await import('./index-commands.js')).openRun(o.run as string);
      const server = await startServer({
        run,
        index: o.index as string,
        port: o.port as number,
        host: o.host as string,
        limits: {
          bodyBytes: (o.maxBodyMb as number) << 20,
          imagePixels: o.maxPixels as number,
          maxK: o.maxK as number,
          concurrency: o.concurrency as number,
          queue: o.queue as number,
          requestTimeoutMs: o.timeoutMs as number,
        },
      });
      stopOnSignals(server);
      process.stdout.write(`serving ${o.index} on ${server.url}\n`);
    });
}
