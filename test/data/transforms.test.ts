import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { preprocess, sampleCrop, testGeometry, outputShape, decodeImage, resolveNormalization, Rng, type ImageInput } from '../../src/data/index.js';

async function png(width: number, height: number, fill: (x: number, y: number) => [number, number, number]): Promise<ImageInput> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px.set(fill(x, y), (y * width + x) * 3);
  const bytes = await sharp(px, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return { kind: 'encoded', bytes, where: `synthetic ${width}x${height}` };
}

function plane(out: Float32Array, c: number, hw: number): Float32Array {
  return out.subarray(c * hw, (c + 1) * hw);
}

test('caffe normalisation: 255*(rgb - mean), BGR order, no std (train and test modes)', async () => {
  const img = await png(40, 30, () => [200, 100, 50]);
  const expected = [50 - 255 * 0.406, 100 - 255 * 0.456, 200 - 255 * 0.485]; // B, G, R planes
  for (const mode of ['train', 'test'] as const) {
    const out = await preprocess(img, mode, { size: 16, resizeTo: 18 }, new Rng(1));
    assert.equal(out.length, 3 * 16 * 16);
    for (let c = 0; c < 3; c++) for (const v of plane(out, c, 256)) assert.ok(Math.abs(v - expected[c]!) < 1e-3, `${mode} plane ${c}: ${v} vs ${expected[c]}`);
  }
});

test('imagenet (RGB, mean/std) and unit normalisation; greyscale to 3 or 1 channels', async () => {
  const img = await png(8, 8, () => [200, 100, 50]);
  const o = await preprocess(img, 'test', { size: 8, resizeTo: 8, normalize: 'imagenet' });
  const exp = [(200 / 255 - 0.485) / 0.229, (100 / 255 - 0.456) / 0.224, (50 / 255 - 0.406) / 0.225];
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(o[c * 64]! - exp[c]!) < 1e-5);
  const u = await preprocess(img, 'test', { size: 8, resizeTo: 8, normalize: 'unit' });
  assert.ok(Math.abs(u[0]! - 200 / 255) < 1e-6 && Math.abs(u[128]! - 50 / 255) < 1e-6);
  const grey = await png(8, 8, () => [90, 90, 90]);
  const g3 = await preprocess(grey, 'test', { size: 8, resizeTo: 8, normalize: 'unit' });
  assert.ok(g3.every((v) => Math.abs(v - 90 / 255) < 1e-6));
  const g1 = await preprocess(grey, 'test', { size: 8, resizeTo: 8, channels: 1, normalize: 'caffe' });
  assert.equal(g1.length, 64);
  const mean1 = (0.485 + 0.456 + 0.406) / 3;
  assert.ok(g1.every((v) => Math.abs(v - (90 - 255 * mean1)) < 1e-3));
  const dec = await decodeImage(grey);
  assert.equal(dec.channels, 3); // PNG written as RGB stays RGB
  assert.throws(() => resolveNormalization({ mean: [0.5] }, 3), /mean\/std need 3 values/);
});

test('output shapes: square and [H, W], train and test', async () => {
  const img = await png(50, 37, (x, y) => [x * 5, y * 6, 100]);
  assert.deepEqual(outputShape({ size: [20, 30] }), [3, 20, 30]);
  const a = await preprocess(img, 'train', { size: [20, 30] }, new Rng(3));
  assert.equal(a.length, 3 * 20 * 30);
  const b = await preprocess(img, 'test', { size: [20, 30], resizeTo: 32 });
  assert.equal(b.length, 3 * 20 * 30);
  await assert.rejects(preprocess(img, 'test', { size: 40, resizeTo: 30 }), /smaller than the 40x40 crop/);
  await assert.rejects(preprocess(img, 'train', { size: 8 }), /needs an Rng/);
});

test('test geometry: shorter side to resizeTo, centre crop', () => {
  assert.deepEqual(testGeometry(300, 200, 256, 227, 227), { width: 384, height: 256, crop: { left: 78, top: 14, width: 227, height: 227 } });
  assert.deepEqual(testGeometry(200, 500, 256, 227, 227), { width: 256, height: 640, crop: { left: 14, top: 206, width: 227, height: 227 } });
});

test('random resized crop: area in [0.16, 1], aspect in [3/4, 4/3], inside the image, fallback to whole image', () => {
  const rng = new Rng(123);
  const W = 300;
  const H = 227;
  let small = 0;
  for (let i = 0; i < 3000; i++) {
    const b = sampleCrop(W, H, rng);
    assert.ok(b.left >= 0 && b.top >= 0 && b.left + b.width <= W && b.top + b.height <= H, JSON.stringify(b));
    const area = (b.width * b.height) / (W * H);
    const ratio = b.width / b.height;
    // rounding of w and h to integers moves area/aspect by at most ~1 pixel row/column
    assert.ok(area >= 0.16 - 0.01 && area <= 1, `area ${area}`);
    assert.ok(ratio >= 0.75 - 0.01 && ratio <= 4 / 3 + 0.01, `ratio ${ratio}`);
    if (area < 0.5) small++;
  }
  assert.ok(small > 500, `crops are not all large: ${small}`);
  // impossible aspect range -> whole image after 100 attempts
  assert.deepEqual(sampleCrop(20, 20, new Rng(1), { ratioMin: 10, ratioMax: 11 }), { left: 0, top: 0, width: 20, height: 20 });
});

test('horizontal flip: p=1 mirrors, p=0 does not, p=0.5 does both over seeds; same seed same output', async () => {
  const img = await png(20, 10, (x) => (x < 10 ? [0, 0, 0] : [255, 255, 255]));
  const whole = { areaMin: 1, areaMax: 1, ratioMin: 2, ratioMax: 2 };
  const t = { size: [10, 20] as [number, number], crop: whole, normalize: 'unit' as const };
  const flipped = await preprocess(img, 'train', { ...t, flipProb: 1 }, new Rng(1));
  const plain = await preprocess(img, 'train', { ...t, flipProb: 0 }, new Rng(1));
  assert.ok(Math.abs(plain[0]! - 0) < 1e-6 && Math.abs(plain[19]! - 1) < 1e-6);
  assert.ok(Math.abs(flipped[0]! - 1) < 1e-6 && Math.abs(flipped[19]! - 0) < 1e-6);
  const firsts = new Set<number>();
  for (let s = 0; s < 16; s++) firsts.add(Math.round((await preprocess(img, 'train', t, new Rng(s)))[0]!));
  assert.deepEqual([...firsts].sort(), [0, 1]);
  const tex = await png(40, 40, (x, y) => [(x * 7) % 256, (y * 11) % 256, (x * y) % 256]);
  const r1 = await preprocess(tex, 'train', { size: 16 }, new Rng(77));
  const r2 = await preprocess(tex, 'train', { size: 16 }, new Rng(77));
  const r3 = await preprocess(tex, 'train', { size: 16 }, new Rng(78));
  assert.deepEqual(r1, r2);
  assert.notDeepEqual(r1, r3);
});
