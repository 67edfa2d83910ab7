// The MLRC protocol (spec 5.2, 5.4): four fold models per repeat, each validating on a different quarter of the
// training classes; test metrics reported as "128D" (mean over the fold models) and "512D" (their N-normalised
// embeddings concatenated), with mean/std over every combination of repeats.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../engine/serialization/index.js';
import { ImageLoader } from '../data/index.js';
import { evaluateEnsembleRepeats, type EnsembleRepeatsResult, type ModelEmbeddings, type Stat } from '../evaluation/index.js';
import { loadRun, MLRC_RESULTS_FILE } from './run-files.js';
import type { RunConfig } from './config.js';
import { prepareData } from './data-setup.js';
import { embedItems, asEmbeddingInput, type Embeddings } from './embed.js';
import { train, type TrainResult } from './trainer.js';
import type { TrainCallback } from './hooks/index.js';

export const MLRC_FOLDS = 4;

export interface MlrcResult {
  runDir: string;
  /** [fold][repeat] */
  runs: { fold: number; repeat: number; runDir: string; epochs: number; steps: number; testMapAtR: number | null }[];
  ensemble: EnsembleRepeatsResult;
  report: string;
  /** The protocol's HTML summary (links to each fold model's report), when a report callback wrote one. */
  reportPath?: string;
}

/** Called once the protocol's results are written (the CLI's summary report, report.mlrcReportCallback). */
export interface MlrcCallback {
  readonly name: string;
  onProtocolEnd?(ctx: { result: MlrcResult; dims: number }): void | Promise<void>;
}

export interface MlrcOptions {
  repeats?: number;
  resume?: boolean;
  quiet?: boolean;
  /** Callbacks of every fold model's train() (the same objects for each: keep them free of per-run state). */
  callbacks?: readonly TrainCallback[];
  /** Callbacks of the protocol as a whole. */
  protocolCallbacks?: readonly MlrcCallback[];
}

function pct(s: Stat | undefined): string {
  return s ? `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}` : '-';
}

/** Trains (or, with resume, finishes) every fold model of every repeat and evaluates the ensembles. */
export async function trainMlrc(config: RunConfig, options: MlrcOptions = {}): Promise<MlrcResult> {
  const repeats = options.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a positive integer, got ${repeats}`);
  const root = join(config.outputDir, config.name);
  const perFold: ModelEmbeddings[][] = Array.from({ length: MLRC_FOLDS }, () => []);
  const runs: MlrcResult['runs'] = [];
  let labels: { query: Int32Array; gallery?: Int32Array } | null = null;
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < MLRC_FOLDS; k++) {
      const cfg: RunConfig = {
        ...config,
        seed: config.seed + r,
        name: `${config.name}-r${r}-f${k + 1}`,
        dataset: { ...config.dataset, validation: 'classes', fold: k },
      };
      const runDir = join(root, `repeat-${r}`, `fold-${k + 1}`);
      let test: { query: Embeddings; gallery?: Embeddings };
      if (options.resume && existsSync(join(runDir, 'final-metrics.json'))) {
        // Finished earlier: embed the test split with its saved best weights, on the device the folds train on.
        const { model } = loadRun(runDir, undefined, { device: cfg.device });
        const data = await prepareData(cfg.dataset, cfg.seed);
        const load = (ds: typeof data.test.query) => new ImageLoader(ds, { mode: 'test', transform: data.transform, onBadItem: cfg.dataset.onBadItem });
        test = {
          query: await embedItems(model, load(data.test.query), { batchSize: cfg.training.evalBatchSize }),
          gallery: data.test.gallery ? await embedItems(model, load(data.test.gallery), { batchSize: cfg.training.evalBatchSize }) : undefined,
        };
        runs.push({ fold: k + 1, repeat: r, runDir, epochs: -1, steps: -1, testMapAtR: null });
      } else {
        if (!options.quiet) process.stderr.write(`\nMLRC repeat ${r + 1}/${repeats}, fold model ${k + 1}/${MLRC_FOLDS}\n`);
        const res: TrainResult = await train(cfg, {
          runDir,
          resume: options.resume,
          quiet: options.quiet,
          keepTestEmbeddings: true,
          callbacks: options.callbacks,
        });
        test = res.testEmbeddings!;
        runs.push({ fold: k + 1, repeat: r, runDir, epochs: res.epochs, steps: res.steps, testMapAtR: res.test?.mapAtR ?? null });
      }
      labels ??= { query: test.query.labels, gallery: test.gallery?.labels };
      perFold[k]!.push({ queries: asEmbeddingInput(test.query), references: test.gallery ? asEmbeddingInput(test.gallery) : undefined });
    }
  }
  const ensemble = evaluateEnsembleRepeats(perFold, {
    queryLabels: labels!.query,
    ...(labels!.gallery ? { referenceLabels: labels!.gallery } : {}),
    metrics: ['precisionAt1', 'rPrecision', 'mapAtR'],
    normalize: config.evaluation.normalization,
    maxCombinations: 4096,
  });
  const dims = config.model.embeddingDim;
  const report = [
    `MLRC protocol: ${MLRC_FOLDS} fold models x ${repeats} repeat(s), ${ensemble.combinations} combination(s)`,
    `| embedding | P@1 | R-Precision | MAP@R |`,
    `|---|---|---|---|`,
    `| ${MLRC_FOLDS * dims}D (concatenated) | ${pct(ensemble.concatenated.precisionAt1)} | ${pct(ensemble.concatenated.rPrecision)} | ${pct(ensemble.concatenated.mapAtR)} |`,
    `| ${dims}D (separated) | ${pct(ensemble.separated.precisionAt1)} | ${pct(ensemble.separated.rPrecision)} | ${pct(ensemble.separated.mapAtR)} |`,
  ].join('\n');
  writeFileAtomic(join(root, MLRC_RESULTS_FILE), JSON.stringify({ runs, ensemble }, null, 2) + '\n');
  const result: MlrcResult = { runDir: root, runs, ensemble, report };
  for (const c of options.protocolCallbacks ?? []) await c.onProtocolEnd?.({ result, dims });
  return result;
}
