// A run folder without training, for tests of what uses a trained model (index, serve, calibrate, export):
// a folder dataset of generated greyscale PNGs (one bright square per class at a class-specific place, plus
// per-image noise, so even random weights give class structure) and a model with seeded random weights.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { manualSeed } from '../../src/engine/index.js';
import { saveModule } from '../../src/engine/serialization/index.js';
import { parseRunConfig, type RunConfig } from '../../src/training/config.js';
import { buildModel } from '../../src/training/build.js';
import { outputShape } from '../../src/data/index.js';
import { transformFor } from '../../src/training/data-setup.js';
import { seededRandom } from './tensors.js';

export interface TinyRun {
  runDir: string;
  imagesDir: string;
  config: RunConfig;
  /** Every image file, class by class. */
  files: { path: string; className: string }[];
}

/** A size x size greyscale PNG: class square plus noise. */
export async function classImage(c: number, i: number, size = 28): Promise<Buffer> {
  const rnd = seededRandom(1000 * c + i + 1);
  const px = new Uint8Array(size * size);
  const cell = Math.floor(size / 4);
  const x0 = (c % 4) * cell;
  const y0 = (Math.floor(c / 4) % 4) * cell;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= x0 && x < x0 + cell && y >= y0 && y < y0 + cell;
      px[y * size + x] = Math.max(0, Math.min(255, Math.round((inside ? 200 : 30) + 40 * (rnd() - 0.5))));
    }
  }
  return sharp(Buffer.from(px), { raw: { width: size, height: size, channels: 1 } })
    .png()
    .toBuffer();
}

export async function makeTinyRun(
  root: string,
  o: { classes?: number; perClass?: number; model?: string; dim?: number; options?: Record<string, unknown>; seed?: number } = {},
): Promise<TinyRun> {
  const classes = o.classes ?? 12;
  const perClass = o.perClass ?? 5;
  const imagesDir = join(root, 'images');
  const files: TinyRun['files'] = [];
  for (let c = 0; c < classes; c++) {
    const className = `class${String(c).padStart(2, '0')}`;
    mkdirSync(join(imagesDir, className), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const path = join(imagesDir, className, `img${i}.png`);
      writeFileSync(path, await classImage(c, i));
      files.push({ path, className });
    }
  }
  const config = parseRunConfig({
    name: 'tiny',
    dataset: { name: 'folder', root: imagesDir, imageSize: 28, channels: 1, normalization: 'unit', validation: 'samples', validationShare: 0.4 },
    model: { name: o.model ?? 'small_cnn', embeddingDim: o.dim ?? 8, options: o.options ?? (o.model && o.model !== 'small_cnn' ? {} : { channels: [4, 8] }) },
  });
  const runDir = join(root, 'run');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2));
  manualSeed(o.seed ?? 7);
  const model = buildModel(config, outputShape(transformFor(config.dataset)));
  saveModule(join(runDir, 'model.safetensors'), model);
  return { runDir, imagesDir, config, files };
}
