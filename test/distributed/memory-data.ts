// A small in-memory image dataset and a seeded small CNN for the distributed training and evaluation tests:
// 1-channel 8x8 images, one bright square per class at a class-specific place plus noise.
import { ImageDataset, type MemoryImages } from '../../src/data/index.js';
import { manualSeed } from '../../src/engine/index.js';
import { buildModel } from '../../src/training/build.js';
import { parseRunConfig } from '../../src/training/config.js';
import { seededRandom } from '../helpers/tensors.js';

export const IMAGE_SIZE = 8;
/** Plain 8x8 greyscale in [0, 1]: no resize, no crop. */
export const MEMORY_TRANSFORM = { size: IMAGE_SIZE, channels: 1, normalize: 'unit', resizeTo: IMAGE_SIZE } as const;

export function memoryDataset(classes: number, perClass: number, seed = 1): ImageDataset {
  const count = classes * perClass;
  const px = new Uint8Array(count * IMAGE_SIZE * IMAGE_SIZE);
  const rnd = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    for (let p = 0; p < IMAGE_SIZE * IMAGE_SIZE; p++) {
      const inside = Math.floor(p / IMAGE_SIZE / 4) * 2 + Math.floor((p % IMAGE_SIZE) / 4) === c % 4;
      px[i * IMAGE_SIZE * IMAGE_SIZE + p] = Math.round((inside ? 180 + 10 * Math.floor(c / 4) : 40) + 50 * (rnd() - 0.5));
    }
  }
  const memory: MemoryImages = { name: 'memory', pixels: px, width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1, count };
  const raw = Array.from({ length: count }, (_, i) => ({ source: { kind: 'memory' as const, index: i }, className: `c${i % classes}` }));
  return ImageDataset.build('memory', raw, { memory });
}

/** The small CNN every rank builds the same way (same seed, same weights). */
export function seededSmallCnn(seed: number, embeddingDim = 6) {
  const cfg = parseRunConfig({
    name: 'dist-test',
    dataset: { name: 'folder', root: '/unused', imageSize: IMAGE_SIZE, channels: 1 },
    model: { name: 'small_cnn', embeddingDim, options: { channels: [4, 8] } },
  });
  manualSeed(seed);
  return buildModel(cfg, [1, IMAGE_SIZE, IMAGE_SIZE]);
}
