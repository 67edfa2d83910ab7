// Small generated inputs for the reliability tests: a folder dataset of tiny PNGs, a run config that trains
// in well under a second per epoch on two cores, and a temporary root removed when the test file ends.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { classImage } from '../helpers/tiny-run.js';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../src/training/config.js';

/** A temporary folder removed after the test file. */
export function tempRoot(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** <root>/<classNN>/img<i>.png, 16x16 greyscale. */
export async function makeImageFolder(root: string, classes = 6, perClass = 4, size = 16): Promise<string> {
  for (let c = 0; c < classes; c++) {
    const dir = join(root, `class${String(c).padStart(2, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(dir, `img${i}.png`), await classImage(c, i, size));
  }
  return root;
}

type Over = { [K in keyof RunConfigInput]?: RunConfigInput[K] extends object | undefined ? Record<string, unknown> : RunConfigInput[K] };

/** A run config over a folder dataset (class-disjoint train/test halves, validation on held-out images). */
export function tinyConfig(root: string, outputDir: string, over: Over = {}): RunConfig {
  const base: Record<string, Record<string, unknown> | string | number> = {
    name: 'tiny',
    outputDir,
    dataset: { name: 'folder', root, imageSize: 16, channels: 1, normalization: 'unit', validation: 'samples', validationShare: 0.5, cacheInMemory: true },
    model: { name: 'mlp', embeddingDim: 4, options: { hidden: [8] } },
    loss: { name: 'contrastive' },
    optimizer: { lr: 1e-3 },
    training: { classesPerBatch: 2, samplesPerClass: 2, stepsPerEpoch: 2, maxEpochs: 2, evalBatchSize: 32, prefetchBatches: 1 },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    merged[k] = b && typeof b === 'object' && v && typeof v === 'object' && !Array.isArray(v) ? { ...b, ...v } : v;
  }
  return parseRunConfig(merged);
}
