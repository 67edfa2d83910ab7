// Running the API: open the run's model, its calibration and the index (the writer lock keeps other writers
// out), listen, and on SIGTERM / SIGINT stop accepting, let the requests in flight finish, save the index
// and release it.
import type { FastifyInstance } from 'fastify';
import { VectorIndex, type RunEmbedder, type ModelIdentity } from '../index/index.js';
import { loadCalibration } from '../calibrate/index.js';
import { buildServer } from './app.js';
import type { ServeLimits } from './limits.js';

export interface StartOptions {
  run: { dir: string; embedder: RunEmbedder; identity: ModelIdentity };
  index: string;
  port: number;
  host?: string;
  limits?: Partial<ServeLimits>;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** Drains and closes (what SIGTERM does), without exiting the process. */
  stop(): Promise<void>;
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  const index = VectorIndex.open(o.index, { model: o.run.identity });
  const app = buildServer({ embedder: o.run.embedder, index, calibration: loadCalibration(o.run.dir, o.run.identity), limits: o.limits });
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      try {
        await app.close(); // stops accepting, waits for requests in flight, then saves (onClose hook)
      } finally {
        index.close();
      }
    })());
  try {
    const url = await app.listen({ port: o.port, host: o.host ?? '127.0.0.1' });
    return { app, url, stop };
  } catch (e) {
    index.close();
    throw e;
  }
}

/** SIGTERM / SIGINT: drain, save, exit 0 (exit 1 if saving failed). */
export function stopOnSignals(server: RunningServer, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): void {
  const handler = (signal: string) => {
    log(`serve: ${signal}: finishing requests in flight and saving the index`);
    server.stop().then(
      () => {
        log('serve: stopped');
        process.exit(0);
      },
      (e: Error) => {
        log(`serve: error while stopping: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));
}
