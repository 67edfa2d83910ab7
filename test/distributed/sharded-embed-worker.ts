// A rank of sharded-embed.test.ts: embeds 23 items (6 batches) and 3 items (1 batch: rank 1 gets none) sharded over the group and in one
// piece, computes the retrieval metrics of both, and prints them.
import { ImageLoader } from '../../src/data/index.js';
import { embedItems, evaluateEmbeddings, type Embeddings } from '../../src/training/embed.js';
import { embedItemsSharded } from '../../src/training/sharded-embed.js';
import { isLaunchedRank, joinTestGroup } from './rank-group.js';
import { memoryDataset, seededSmallCnn, MEMORY_TRANSFORM } from './memory-data.js';

if (!isLaunchedRank()) process.exit(0);
const group = joinTestGroup();
const model = seededSmallCnn(11);
const evalOpts = { recallAt: [1, 2], normalization: 'l2' as const, nmi: true, seed: 3 };
const metrics = (e: Embeddings) => ({ ...evaluateEmbeddings(e, undefined, evalOpts), timings: undefined });
const show = (e: Embeddings) => ({ data: Array.from(e.data), labels: Array.from(e.labels), dim: e.dim });
const out: Record<string, unknown> = {};
for (const [name, classes, perClass] of [
  ['uneven', 4, 6],
  ['tiny', 2, 2],
] as const) {
  const ds = memoryDataset(classes, perClass);
  const images = new ImageLoader(ds, { mode: 'test', transform: MEMORY_TRANSFORM });
  const indices = name === 'uneven' ? Array.from({ length: 23 }, (_, i) => 23 - i) : [0, 1, 2];
  const whole = await embedItems(model, images, { indices, batchSize: 4 });
  const sharded = await embedItemsSharded(group, model, images, { indices, batchSize: 4 });
  out[name] = { whole: show(whole), sharded: show(sharded), wholeMetrics: metrics(whole), shardedMetrics: metrics(sharded) };
}
console.log(JSON.stringify(out));
group.destroy();
