// The HTML reports as end-of-run callbacks: the CLI (or a library user) adds them to train() and trainMlrc(),
// so training itself never depends on the report. A report that fails only warns: the run's results stand.
import type { TrainCallback } from '../training/hooks/index.js';
import type { MlrcCallback } from '../training/mlrc.js';
import { writeRunReport } from './write-report.js';
import { writeMlrcReport } from './mlrc-report.js';

/** Writes <run>/report.html when a run ends with its test evaluation (not when it was interrupted). */
export function runReportCallback(): TrainCallback {
  return {
    name: 'run-report',
    async onTrainEnd(ctx) {
      // Only the process that writes the run folder (rank 0 of a distributed run) writes its report.
      if (!ctx.test || !ctx.writesFiles) return;
      try {
        ctx.result.reportPath = await writeRunReport(ctx.runDir, { data: ctx.data, test: ctx.test, verbose: !ctx.quiet });
      } catch (e) {
        process.stderr.write(`warning: the run report of ${ctx.runDir} could not be written: ${(e as Error).message}\n`);
      }
    },
  };
}

/** Writes the MLRC protocol folder's summary page (linking to each fold model's report). */
export function mlrcReportCallback(): MlrcCallback {
  return {
    name: 'mlrc-report',
    async onProtocolEnd(ctx) {
      try {
        ctx.result.reportPath = await writeMlrcReport(ctx.result.runDir, { dims: ctx.dims });
      } catch (e) {
        process.stderr.write(`warning: the MLRC report of ${ctx.result.runDir} could not be written: ${(e as Error).message}\n`);
      }
    },
  };
}
