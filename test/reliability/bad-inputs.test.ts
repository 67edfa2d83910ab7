// The bad-input corpus: one table of broken images, datasets, configs, safetensors files, checkpoints,
// signals and command lines. Each case asserts the exit code the CLI would give (in process: an error is exit
// 1, as src/cli/main.ts maps it; a few cases spawn the CLI for real) and that the message names the culprit
// (the file, key or entry at fault). A case cannot pass by hanging (per-case timeout), by crashing (the
// outcome must be an Error with the expected text) or by succeeding silently (the code is asserted, and
// code-0 cases must report what they skipped).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../../src/training/trainer.js';
import { parseRunConfig, type RunConfig } from '../../src/training/config.js';
import { prepareData } from '../../src/training/data-setup.js';
import { buildModel, buildLoss } from '../../src/training/build.js';
import { resolveConfig, parseOverride } from '../../src/cli/config-loader.js';
import { evaluateCommand, embedCommand, searchCommand } from '../../src/cli/commands.js';
import { loadCsvManifest, loadCub, ImageLoader, outputShape } from '../../src/data/index.js';
import { loadSafetensors, loadModule, saveSafetensors, saveModule } from '../../src/engine/serialization/index.js';
import { tensor, manualSeed } from '../../src/engine/index.js';
import { loadPretrained } from '../../src/models/index.js';
import { transformFor } from '../../src/training/data-setup.js';
import { classImage } from '../helpers/tiny-run.js';
import { makeImageFolder, tempRoot, tinyConfig } from './fixtures.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(repo, 'dist/src/cli/main.js');
const tmp = tempRoot('ccp-bad-inputs-');

type Area = 'image' | 'dataset' | 'config' | 'safetensors' | 'checkpoint' | 'signal' | 'cli';
interface Outcome {
  /** Exit code the CLI gives: 0 when the call returned, 1 when it threw (main.ts), or a spawned process's. */
  code: number;
  /** The error message, or for code 0 the warnings the call reported. */
  text: string;
}
interface Case {
  area: Area;
  name: string;
  code: number;
  expect: RegExp;
  /** Sets up in `dir` and runs; returns the outcome and the culprit its text must name. */
  run(dir: string): Promise<{ outcome: Outcome; culprit: string }>;
}

/** Runs a call as main.ts does: an exception is exit code 1 with its message. */
async function attempt(fn: () => unknown, warnings: (r: unknown) => string[] = () => []): Promise<Outcome> {
  try {
    const r = await fn();
    return { code: 0, text: warnings(r).join('\n') };
  } catch (e) {
    assert.ok(e instanceof Error, `threw a non-Error: ${String(e)}`);
    return { code: 1, text: e.message };
  }
}

/** The CLI as a process; the whole run must end within `timeout` ms. */
function cli(args: string[], timeout = 60_000): Outcome {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout, cwd: tmp });
  assert.equal(r.error, undefined, `the CLI did not end in ${timeout} ms`);
  return { code: r.status ?? 128, text: `${r.stdout}\n${r.stderr}` };
}

// ---- shared fixtures ----
let images: string; // 4 classes x 4 images: classes 0-1 train (and validation), 2-3 test
let runDir: string; // a run interrupted after epoch 1 of 2: a checkpoint to tamper with
let runCfg: RunConfig;
let finishedDir: string; // a finished one-epoch run (eval, embed, search)
const pngBytes = async () => classImage(1, 1, 16);

before(async () => {
  images = await makeImageFolder(join(tmp, 'images'), 4, 4);
  runCfg = tinyConfig(images, tmp, { name: 'base', training: { maxEpochs: 2 } });
  runDir = (await train(runCfg, { quiet: true, stopAfterEpochs: 1 })).runDir;
  finishedDir = (await train({ ...runCfg, name: 'finished', training: { ...runCfg.training, maxEpochs: 1 } }, { quiet: true })).runDir;
});

/** A copy of the image folder to damage. */
function folderCopy(dir: string): string {
  const root = join(dir, 'images');
  cpSync(images, root, { recursive: true });
  return root;
}

function folderDataset(root: string, over: Record<string, unknown> = {}): RunConfig['dataset'] {
  return parseRunConfig({
    dataset: { name: 'folder', root, imageSize: 16, channels: 1, normalization: 'unit', validation: 'samples', validationShare: 0.5, ...over },
  }).dataset;
}

const reportOf = (r: unknown) => {
  const rep = (r as { report?: { skipped: { reason: string }[]; notes: string[] } }).report;
  return [...(rep?.skipped.map((s) => s.reason) ?? []), ...(rep?.notes ?? [])];
};

/** prepareData over a damaged folder: the header check of every split. */
async function prepare(root: string, over: Record<string, unknown> = {}): Promise<Outcome> {
  return attempt(() => prepareData(folderDataset(root, over), 0), reportOf);
}

/** A PNG whose IHDR says width x height (CRC fixed up), with the original tiny pixel data. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const b = Buffer.from(await pngBytes());
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b.writeUInt32BE(crc32(b.subarray(12, 29)) >>> 0, 29);
  return b;
}

function writeConfig(dir: string, name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const dataset = { name: 'folder', root: '/nonexistent' };
const configCase = (name: string, cfg: unknown, expect: RegExp, culprit: string): Case => ({
  area: 'config',
  name,
  code: 1,
  expect,
  run: async (dir) => ({ outcome: await attempt(() => resolveConfig({ file: writeConfig(dir, 'c.json', JSON.stringify(cfg)) })), culprit }),
});
/** A config that parses, checked by building its model and loss (where model / loss options are checked). */
const buildCase = (name: string, over: Record<string, unknown>, expect: RegExp, culprit: string): Case => ({
  area: 'config',
  name,
  code: 1,
  expect,
  run: async () => ({
    outcome: await attempt(() => {
      const cfg = parseRunConfig({ dataset: { name: 'mnist' }, ...over });
      buildModel(cfg, [1, 28, 28]).dispose();
      buildLoss(cfg, 4);
    }),
    culprit,
  }),
});

/** A safetensors file from a header (object or raw text), data bytes and an optional header length. */
function safetensors(dir: string, header: unknown, data = Buffer.alloc(0), lengthOverride?: bigint): string {
  const h = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(h.length));
  const p = join(dir, 'w.safetensors');
  writeFileSync(p, Buffer.concat([len, h, data]));
  return p;
}
const stCase = (name: string, make: (dir: string) => string, expect: RegExp): Case => ({
  area: 'safetensors',
  name,
  code: 1,
  expect,
  run: async (dir) => {
    const p = make(dir);
    return { outcome: await attempt(() => loadSafetensors(p).dispose()), culprit: p };
  },
});

/** A copy of the interrupted run whose checkpoint `tamper` edits (state JSON, tensors, metadata). */
function tamperedRun(
  dir: string,
  tamper: (state: Record<string, unknown>, tensors: Map<string, ReturnType<typeof tensor>>, meta: Record<string, string>) => void,
): string {
  const copy = join(dir, 'run');
  cpSync(runDir, copy, { recursive: true });
  const ckpt = join(copy, 'checkpoint.safetensors');
  const f = loadSafetensors(ckpt);
  const meta = { ...f.metadata };
  const state = JSON.parse(meta.state!) as Record<string, unknown>;
  const tensors = new Map(f);
  tamper(state, tensors, meta);
  meta.state = JSON.stringify(state);
  saveSafetensors(ckpt, tensors, meta);
  f.dispose();
  return copy;
}
const ckptCase = (name: string, tamper: Parameters<typeof tamperedRun>[1], expect: RegExp): Case => ({
  area: 'checkpoint',
  name,
  code: 1,
  expect,
  run: async (dir) => {
    const copy = tamperedRun(dir, tamper);
    const ckpt = join(copy, 'checkpoint.safetensors');
    return { outcome: await attempt(() => train(runCfg, { runDir: copy, resume: true, quiet: true })), culprit: ckpt };
  },
});

const cases: Case[] = [
  // ---------------- images (the header check of every split, and decoding) ----------------
  ...(
    [
      ['an empty file', () => Buffer.alloc(0), /class00\/img0\.png: cannot decode image header/],
      ['random bytes', () => Buffer.from('8f3a91c2d4e5f60718293a4b5c6d7e8f'.repeat(8), 'hex'), /cannot decode image header/],
      ['a text file named .png', () => Buffer.from('hello, I am not an image\n'), /cannot decode image header/],
      ['a BMP (unsupported format) named .png', () => Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]), /cannot decode image header/],
      ['only the PNG signature', () => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), /cannot decode image header/],
    ] as const
  ).map(
    ([name, bytes, expect]): Case => ({
      area: 'image',
      name: `training image: ${name}`,
      code: 1,
      expect,
      run: async (dir) => {
        const root = folderCopy(dir);
        const bad = join(root, 'class00/img0.png');
        writeFileSync(bad, bytes());
        return { outcome: await prepare(root), culprit: bad };
      },
    }),
  ),
  {
    area: 'image',
    name: 'a corrupt test-split image fails before training, naming the split',
    code: 1,
    expect: /1 bad image\(s\) in the test split .*found before training/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class03/img2.png');
      writeFileSync(bad, 'corrupt');
      return { outcome: await attempt(() => train(tinyConfig(root, dir), { quiet: true })), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'several bad images are all listed',
    code: 1,
    expect: /3 bad image\(s\) in the training split[\s\S]*class00\/img1\.png[\s\S]*class01\/img2\.png/,
    run: async (dir) => {
      const root = folderCopy(dir);
      for (const f of ['class00/img0.png', 'class00/img1.png', 'class01/img2.png']) writeFileSync(join(root, f), 'x');
      return { outcome: await prepare(root), culprit: join(root, 'class00/img0.png') };
    },
  },
  {
    area: 'image',
    name: 'a PNG claiming 20000x20000 pixels is refused before decoding',
    code: 1,
    expect: /image is 20000x20000 \(400 Mpx\), over the 100 Mpx limit/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class01/img1.png');
      writeFileSync(bad, await pngClaiming(20000, 20000));
      return { outcome: await prepare(root), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'a 300 MiB image file is refused before it is read',
    code: 1,
    expect: /image is 300\.0 MiB, over the 256\.0 MiB limit/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class01/img0.png');
      truncateSync(bad, 300 * 2 ** 20); // sparse: no disk used
      return { outcome: await prepare(root), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'a FIFO named .png is refused without blocking',
    code: 1,
    expect: /is a FIFO \(named pipe\), not a regular image file/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class00/img2.png');
      rmSync(bad);
      execFileSync('mkfifo', [bad]);
      return { outcome: await prepare(root), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'a symlink to /dev/zero named .png is refused',
    code: 1,
    expect: /is a character device, not a regular image file/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class00/img2.png');
      rmSync(bad);
      symlinkSync('/dev/zero', bad);
      return { outcome: await prepare(root), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'a dangling symlink named .png',
    code: 1,
    expect: /image file not found/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class02/img0.png');
      rmSync(bad);
      symlinkSync(join(dir, 'nowhere.png'), bad);
      return { outcome: await prepare(root), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'a truncated PNG (header intact) fails at decoding, naming the file',
    code: 1,
    expect: /cannot decode image/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class00/img0.png');
      const png = await pngBytes();
      writeFileSync(bad, png.subarray(0, Math.floor(png.length * 0.6)));
      const data = await prepareData(folderDataset(root), 0);
      const loader = new ImageLoader(data.train, { mode: 'test', transform: data.transform });
      const i = data.train.items.findIndex((it) => (it.source as { path: string }).path === bad);
      return { outcome: await attempt(() => loader.loadBatch([i])), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'onBadItem skip: a corrupt test image is dropped and reported',
    code: 0,
    expect: /cannot decode image header/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class02/img1.png');
      writeFileSync(bad, 'corrupt');
      return { outcome: await prepare(root, { onBadItem: 'skip' }), culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'onBadItem skip: a training class whose images are all bad is reported as emptied',
    code: 0,
    expect: /class 'class01' of the training split lost all its images to skipped files/,
    run: async (dir) => {
      const root = folderCopy(dir);
      for (let i = 0; i < 4; i++) writeFileSync(join(root, `class01/img${i}.png`), 'bad');
      // A third training class keeps two usable ones.
      mkdirSync(join(root, 'class04'));
      mkdirSync(join(root, 'class05'));
      for (let i = 0; i < 3; i++) writeFileSync(join(root, `class04/img${i}.png`), await classImage(4, i, 16));
      for (let i = 0; i < 3; i++) writeFileSync(join(root, `class05/img${i}.png`), await classImage(5, i, 16));
      return { outcome: await prepare(root, { onBadItem: 'skip' }), culprit: 'class01' };
    },
  },
  {
    area: 'image',
    name: 'onBadItem skip in a full run: the warning reaches the result and final-metrics.json',
    code: 0,
    expect: /skipped a bad image of the test split: .*cannot decode image header/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class03/img0.png');
      writeFileSync(bad, 'corrupt');
      const outcome = await attempt(
        () => train(tinyConfig(root, dir, { dataset: { onBadItem: 'skip' } }), { quiet: true }),
        (r) => {
          const res = r as { warnings: string[]; runDir: string };
          assert.match(readFileSync(join(res.runDir, 'final-metrics.json'), 'utf8'), /skipped a bad image/);
          return res.warnings;
        },
      );
      return { outcome, culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'onBadItem skip: a test image that fails only at decoding is skipped and reported at the end',
    code: 0,
    expect: /skipped an image of the test split that could not be decoded: /,
    run: async (dir) => {
      const root = folderCopy(dir);
      const bad = join(root, 'class03/img1.png');
      const png = await pngBytes();
      writeFileSync(bad, png.subarray(0, Math.floor(png.length * 0.6))); // header intact: passes the pre-check
      const outcome = await attempt(
        () => train(tinyConfig(root, dir, { dataset: { onBadItem: 'skip' } }), { quiet: true }),
        (r) => (r as { warnings: string[] }).warnings,
      );
      return { outcome, culprit: bad };
    },
  },
  {
    area: 'image',
    name: 'a file name that is not UTF-8',
    code: 1,
    expect: /the name is not valid UTF-8; rename it/,
    run: async (dir) => {
      const root = folderCopy(dir);
      const classDir = join(root, 'class00');
      writeFileSync(Buffer.concat([Buffer.from(classDir + '/bad'), Buffer.from([0xff, 0xfe]), Buffer.from('.png')]), await pngBytes());
      return { outcome: await prepare(root), culprit: `${classDir}/bad\\xff\\xfe.png` };
    },
  },

  // ---------------- datasets ----------------
  {
    area: 'dataset',
    name: 'dataset.root does not exist',
    code: 1,
    expect: /dataset\.root: folder not found/,
    run: async (dir) => ({ outcome: await prepare(join(dir, 'missing')), culprit: join(dir, 'missing') }),
  },
  {
    area: 'dataset',
    name: 'dataset.root is a file',
    code: 1,
    expect: /image folder not found/,
    run: async (dir) => {
      const f = writeConfig(dir, 'file', 'x');
      return { outcome: await prepare(f), culprit: f };
    },
  },
  {
    area: 'dataset',
    name: 'a folder without class sub-folders',
    code: 1,
    expect: /no class sub-folders/,
    run: async (dir) => {
      mkdirSync(join(dir, 'empty'));
      return { outcome: await prepare(join(dir, 'empty')), culprit: join(dir, 'empty') };
    },
  },
  {
    area: 'dataset',
    name: 'a class folder without images',
    code: 1,
    expect: /class 'class02' has no images/,
    run: async (dir) => {
      const root = folderCopy(dir);
      for (let i = 0; i < 4; i++) rmSync(join(root, `class02/img${i}.png`));
      return { outcome: await prepare(root), culprit: join(root, 'class02') };
    },
  },
  {
    area: 'dataset',
    name: 'fewer than two usable training classes',
    code: 1,
    expect: /1 usable training class\(es\) after the validation split \('class00'\); metric learning needs at least 2/,
    run: async (dir) => {
      const root = folderCopy(dir);
      rmSync(join(root, 'class02'), { recursive: true });
      rmSync(join(root, 'class03'), { recursive: true });
      return { outcome: await prepare(root), culprit: 'images' };
    },
  },
  {
    area: 'dataset',
    name: 'a one-image class loses it to the validation split (reported)',
    code: 0,
    expect: /class 'class00' has a single training image, which went to the validation split/,
    run: async (dir) => {
      const root = folderCopy(dir);
      for (const f of ['class00/img1.png', 'class00/img2.png', 'class00/img3.png']) rmSync(join(root, f));
      mkdirSync(join(root, 'class04'));
      mkdirSync(join(root, 'class05'));
      for (let i = 0; i < 3; i++) writeFileSync(join(root, `class04/img${i}.png`), await classImage(4, i, 16));
      for (let i = 0; i < 3; i++) writeFileSync(join(root, `class05/img${i}.png`), await classImage(5, i, 16));
      return { outcome: await prepare(root), culprit: 'class00' };
    },
  },
  {
    area: 'dataset',
    name: "validation 'classes' with fewer than 4 training classes",
    code: 1,
    expect: /dataset\.validation 'classes' holds out a quarter of the training classes, but there are only 2/,
    run: async (dir) => ({ outcome: await prepare(folderCopy(dir), { validation: 'classes' }), culprit: 'images' }),
  },
  ...(
    [
      ['a header without path/label', 'file,class\na.png,x\n', /manifest\.csv:1: header must name the columns 'path' and 'label'/],
      ['a row with too few columns', 'path,label,split\nimages/im0.png,a\n', /manifest\.csv:2: expected 3 columns/],
      ['an unknown split value', 'path,label,split\nimages/im0.png,a,training\n', /manifest\.csv:2: unknown split value 'training'/],
      ['an unterminated quote', 'path,label,split\n"images/im0.png,a,train\n', /manifest\.csv:2: unterminated quoted field/],
      ['an empty label', 'path,label,split\nimages/im0.png,,train\n', /manifest\.csv:2: empty label/],
      ['only a header', 'path,label,split\n', /manifest\.csv: CSV manifest lists no images/],
      ['a missing image', 'path,label,split\nimages/nope.png,a,train\n', /images\/nope\.png: image file not found \(listed at .*manifest\.csv:2\)/],
      [
        'bytes that are not UTF-8',
        Buffer.concat([Buffer.from('path,label,split\nimages/im0.png,a,train\nimages/im1.png,'), Buffer.from([0xe9]), Buffer.from(',train\n')]),
        /manifest\.csv:3: is not valid UTF-8 text/,
      ],
    ] as const
  ).map(
    ([name, text, expect]): Case => ({
      area: 'dataset',
      name: `CSV manifest: ${name}`,
      code: 1,
      expect,
      run: async (dir) => {
        cpSync(join(repo, 'test/fixtures/data/csv/images'), join(dir, 'images'), { recursive: true });
        const csv = writeConfig(dir, 'manifest.csv', text);
        return { outcome: await attempt(() => loadCsvManifest(csv)), culprit: csv };
      },
    }),
  ),
  {
    area: 'dataset',
    name: "CSV manifest without 'test' rows",
    code: 1,
    expect: /the manifest has no 'test' \(or 'query' \+ 'gallery'\) rows/,
    run: async (dir) => {
      cpSync(join(repo, 'test/fixtures/data/csv/images'), join(dir, 'images'), { recursive: true });
      const csv = writeConfig(dir, 'm.csv', 'path,label,split\nimages/im0.png,a,train\nimages/im1.png,b,train\n');
      return { outcome: await attempt(() => prepareData(parseRunConfig({ dataset: { name: 'csv', csv } }).dataset, 0)), culprit: csv };
    },
  },
  {
    area: 'dataset',
    name: 'CSV manifest path is a folder',
    code: 1,
    expect: /is a folder, not a regular file/,
    run: async (dir) => ({ outcome: await attempt(() => loadCsvManifest(dir)), culprit: dir }),
  },
  {
    area: 'dataset',
    name: 'CSV manifest path is /dev/zero',
    code: 1,
    expect: /is a character device, not a regular file/,
    run: async () => ({ outcome: await attempt(() => loadCsvManifest('/dev/zero')), culprit: '/dev/zero' }),
  },
  {
    area: 'dataset',
    name: 'CUB: images.txt missing',
    code: 1,
    expect: /CUB images\.txt not found/,
    run: async (dir) => {
      cpSync(join(repo, 'test/fixtures/data/cub/CUB_200_2011'), join(dir, 'cub'), { recursive: true });
      rmSync(join(dir, 'cub/images.txt'));
      return { outcome: await attempt(() => loadCub(join(dir, 'cub'), { trainClasses: 2 })), culprit: join(dir, 'cub/images.txt') };
    },
  },
  {
    area: 'dataset',
    name: 'CUB: a malformed line in image_class_labels.txt',
    code: 1,
    expect: /image_class_labels\.txt:2: /,
    run: async (dir) => {
      cpSync(join(repo, 'test/fixtures/data/cub/CUB_200_2011'), join(dir, 'cub'), { recursive: true });
      const f = join(dir, 'cub/image_class_labels.txt');
      const lines = readFileSync(f, 'utf8').split('\n');
      lines[1] = '2 two';
      writeFileSync(f, lines.join('\n'));
      return { outcome: await attempt(() => loadCub(join(dir, 'cub'), { trainClasses: 2 })), culprit: f };
    },
  },
  ...(
    [
      [
        'classesPerBatch above the training classes',
        { classesPerBatch: 5 },
        /training\.classesPerBatch is 5, but the training split .* has only 2 classes/,
        'classesPerBatch',
      ],
      [
        'samplesPerClass above the largest class',
        { samplesPerClass: 9 },
        /training\.samplesPerClass is 9, but the largest training class .* has 2 images/,
        'samplesPerClass',
      ],
    ] as const
  ).map(
    ([name, training, expect, culprit]): Case => ({
      area: 'dataset',
      name: `bounds: ${name}`,
      code: 1,
      expect,
      run: async (dir) => ({ outcome: await attempt(() => train(tinyConfig(images, dir, { training }), { quiet: true })), culprit }),
    }),
  ),
  {
    area: 'dataset',
    name: 'bounds: prefetched batches over the memory budget',
    code: 1,
    expect: /training\.prefetchBatches is 64: 65 batches of 32 images of 3x512x512 floats take 6\.09 GiB, over the 4\.00 GiB limit/,
    run: async (dir) => {
      // 8 training classes of 4 images: batches of 32 at 3x512x512 floats, 65 in flight.
      const root = await makeImageFolder(join(dir, 'many'), 16, 5);
      const cfg = tinyConfig(root, dir, {
        dataset: { imageSize: 512, resizeTo: 512, channels: 3, validationShare: 0.2 },
        training: { prefetchBatches: 64, classesPerBatch: 8, samplesPerClass: 4 },
      });
      return { outcome: await attempt(() => train(cfg, { quiet: true })), culprit: 'training.prefetchBatches' };
    },
  },

  // ---------------- configs ----------------
  {
    area: 'config',
    name: 'config file not found',
    code: 1,
    expect: /config file not found/,
    run: async (dir) => ({ outcome: await attempt(() => resolveConfig({ file: join(dir, 'nope.yaml') })), culprit: join(dir, 'nope.yaml') }),
  },
  {
    area: 'config',
    name: 'YAML syntax error',
    code: 1,
    expect: /cannot parse config file .*c\.yaml/,
    run: async (dir) => {
      const p = writeConfig(dir, 'c.yaml', 'dataset: {name: folder\n  root: [\n');
      return { outcome: await attempt(() => resolveConfig({ file: p })), culprit: p };
    },
  },
  {
    area: 'config',
    name: 'JSON syntax error',
    code: 1,
    expect: /cannot parse config file/,
    run: async (dir) => {
      const p = writeConfig(dir, 'c.json', '{"dataset": {"name": "mnist",}}');
      return { outcome: await attempt(() => resolveConfig({ file: p })), culprit: p };
    },
  },
  {
    area: 'config',
    name: 'a list at the top level',
    code: 1,
    expect: /must hold a mapping at the top level/,
    run: async (dir) => {
      const p = writeConfig(dir, 'c.yaml', '- a\n- b\n');
      return { outcome: await attempt(() => resolveConfig({ file: p })), culprit: p };
    },
  },
  {
    area: 'config',
    name: 'config file is /dev/zero',
    code: 1,
    expect: /config file \/dev\/zero is a character device, not a regular file/,
    run: async () => ({ outcome: await attempt(() => resolveConfig({ file: '/dev/zero' })), culprit: '/dev/zero' }),
  },
  {
    area: 'config',
    name: 'config file is a FIFO (no hang)',
    code: 1,
    expect: /is a FIFO \(named pipe\), not a regular file/,
    run: async (dir) => {
      const p = join(dir, 'fifo.yaml');
      execFileSync('mkfifo', [p]);
      return { outcome: await attempt(() => resolveConfig({ file: p })), culprit: p };
    },
  },
  {
    area: 'config',
    name: 'config file that is not UTF-8',
    code: 1,
    expect: /c\.yaml:2: is not valid UTF-8 text/,
    run: async (dir) => {
      const p = writeConfig(dir, 'c.yaml', Buffer.concat([Buffer.from('dataset:\n  name: f'), Buffer.from([0xff]), Buffer.from('lder\n')]));
      return { outcome: await attempt(() => resolveConfig({ file: p })), culprit: p };
    },
  },
  configCase('an unknown top-level key', { dataset, epochs: 3 }, /\(root\): unknown key\(s\) 'epochs'/, "'epochs'"),
  configCase('an unknown nested key', { dataset, training: { stepz: 3 } }, /training: unknown key\(s\) 'stepz'/, 'stepz'),
  configCase('a string where a number goes', { dataset, optimizer: { lr: 'fast' } }, /optimizer\.lr: /, 'optimizer.lr'),
  configCase('a negative learning rate', { dataset, optimizer: { lr: -1 } }, /optimizer\.lr: Too small/, 'optimizer.lr'),
  configCase('an unknown dataset name', { dataset: { name: 'imagenet' } }, /dataset\.name: /, 'dataset.name'),
  configCase('prefetchBatches over 64', { dataset, training: { prefetchBatches: 1000 } }, /training\.prefetchBatches: Too big/, 'training.prefetchBatches'),
  configCase('an image size over 512', { dataset: { ...dataset, imageSize: 100000 } }, /dataset\.imageSize: Too big/, 'dataset.imageSize'),
  configCase('no dataset section', { model: { name: 'mlp' } }, /no dataset given/, 'dataset'),
  buildCase(
    'an unknown model.options key',
    { model: { name: 'small_cnn', options: { chanels: [4] } } },
    /model\.options: unknown key\(s\) 'chanels' for model 'small_cnn'; known: channels/,
    'chanels',
  ),
  buildCase(
    'model.options.embeddingDim (owned by model.embeddingDim)',
    { model: { name: 'mlp', options: { embeddingDim: 3 } } },
    /'embeddingDim' \(set by model\.embeddingDim\)/,
    'model.options',
  ),
  buildCase(
    'an unknown loss.options key',
    { loss: { name: 'triplet', options: { margn: 0.1 } } },
    /loss\.options: unknown key\(s\) 'margn' for loss 'triplet'/,
    'margn',
  ),
  buildCase(
    'a loss option of another loss under ccp/',
    { loss: { name: 'ccp/contrastive', options: { alpha: 2 } } },
    /loss\.options: unknown key\(s\) 'alpha' for loss 'contrastive'/,
    'alpha',
  ),
  buildCase('an unknown loss name', { loss: { name: 'arcfase' } }, /loss\.name: unknown loss 'arcfase'/, 'arcfase'),
  buildCase('ccp/ around a proxy loss', { loss: { name: 'ccp/proxy_anchor' } }, /loss\.name: ccp\/ wraps a pair loss/, 'proxy_anchor'),
  {
    area: 'config',
    name: '--set without =',
    code: 1,
    expect: /--set expects key=value, got 'training\.maxEpochs'/,
    run: async () => ({ outcome: await attempt(() => parseOverride('training.maxEpochs')), culprit: 'training.maxEpochs' }),
  },
  {
    area: 'config',
    name: 'an unknown preset',
    code: 1,
    expect: /unknown preset 'mnsit'/,
    run: async () => ({ outcome: await attempt(() => resolveConfig({ preset: 'mnsit' })), culprit: 'mnsit' }),
  },

  // ---------------- safetensors ----------------
  stCase('shorter than the 8-byte length', (dir) => writeConfig(dir, 'w.safetensors', 'abc'), /file is truncated \(3 bytes/),
  stCase('a header length of 2^60', (dir) => safetensors(dir, {}, Buffer.alloc(0), 2n ** 60n), /header length 1152921504606846976 is too large/),
  stCase('a header longer than the file', (dir) => safetensors(dir, '{}', Buffer.alloc(0), 4096n), /file is truncated: header needs 4096 bytes/),
  stCase('a header that is not JSON', (dir) => safetensors(dir, '{"a": '), /header is not valid JSON/),
  stCase(
    'a header that is not UTF-8',
    (dir) => safetensors(dir, Buffer.concat([Buffer.from('{"a'), Buffer.from([0xff]), Buffer.from('":{}}')])),
    /header is not valid UTF-8/,
  ),
  stCase('a header that is a list', (dir) => safetensors(dir, '[]'), /header is not a JSON object/),
  stCase(
    'an unsupported dtype',
    (dir) => safetensors(dir, { w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)),
    /tensor 'w': unsupported dtype "F8_E4M3"/,
  ),
  stCase(
    'a negative dimension',
    (dir) => safetensors(dir, { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, Buffer.alloc(4)),
    /tensor 'w': bad shape \[-1\]/,
  ),
  stCase(
    'offsets that do not match the shape',
    (dir) => safetensors(dir, { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 8] } }, Buffer.alloc(8)),
    /tensor 'w': data_offsets \[0, 8\] hold 8 bytes, shape \[2,2\] of F32 needs 16/,
  ),
  stCase(
    'data past the end of the file',
    (dir) => safetensors(dir, { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)),
    /tensor 'w' ends at byte 16 of the data, only 8 bytes present/,
  ),
  stCase(
    'overlapping tensors',
    (dir) =>
      safetensors(dir, { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, Buffer.alloc(12)),
    /tensors 'a' and 'b' overlap/,
  ),
  stCase('metadata that is not a string map', (dir) => safetensors(dir, { __metadata__: { epoch: 3 } }), /__metadata__ 'epoch' is not a string/),
  {
    area: 'safetensors',
    name: '200,000 tensors listed: refused before parsing, in well under a second',
    code: 1,
    expect: /header lists 200000 tensors, over the limit of 100000/,
    run: async (dir) => {
      const entries = Array.from({ length: 200_000 }, (_, i) => `"t${i}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`);
      const p = safetensors(dir, `{${entries.join(',')}}`);
      const t0 = Date.now();
      const outcome = await attempt(() => loadSafetensors(p).dispose());
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      return { outcome, culprit: p };
    },
  },
  stCase('a folder', (dir) => dir, /is a folder, not a regular file/),
  stCase('/dev/zero', () => '/dev/zero', /is a character device, not a regular file/),
  {
    area: 'safetensors',
    name: 'BOOL values for float weights (loadModule)',
    code: 1,
    expect: /dtype mismatch for .*the model's tensor is float32, the file's is bool/,
    run: async (dir) => {
      const cfg = tinyConfig(images, dir);
      const model = buildModel(cfg, outputShape(transformFor(cfg.dataset)));
      const p = join(dir, 'bool.safetensors');
      const sd = new Map([...model.stateDict()].map(([n, t]) => [n, tensor(new Uint8Array(t.numel).fill(1), t.shape, { dtype: 'bool' })]));
      saveSafetensors(p, sd);
      return { outcome: await attempt(() => loadModule(p, model)), culprit: p };
    },
  },
  {
    area: 'safetensors',
    name: 'BOOL values for float weights (model.pretrained)',
    code: 1,
    expect: /model float32, file bool \(true\/false values are not weights\)/,
    run: async (dir) => {
      const cfg = tinyConfig(images, dir);
      const model = buildModel(cfg, outputShape(transformFor(cfg.dataset)));
      const p = join(dir, 'bool.safetensors');
      saveSafetensors(p, new Map([...model.stateDict()].map(([n, t]) => [n, tensor(new Uint8Array(t.numel), t.shape, { dtype: 'bool' })])));
      return { outcome: await attempt(() => loadPretrained(model, p, { log: () => {} })), culprit: p };
    },
  },
  {
    area: 'safetensors',
    name: 'weights of another shape',
    code: 1,
    expect: /shape mismatch for /,
    run: async (dir) => {
      const cfg = tinyConfig(images, dir);
      manualSeed(0);
      const other = buildModel({ ...cfg, model: { ...cfg.model, embeddingDim: 7 } }, outputShape(transformFor(cfg.dataset)));
      const p = join(dir, 'other.safetensors');
      saveModule(p, other);
      return { outcome: await attempt(() => loadModule(p, buildModel(cfg, outputShape(transformFor(cfg.dataset))))), culprit: p };
    },
  },

  // ---------------- checkpoints (tampered copies of an interrupted run, resumed) ----------------
  ckptCase('an impossible epoch (1e6)', (s) => (s.epoch = 1_000_000), /entry 'epoch' is 1000000, impossible: the history records 1 epoch/),
  ckptCase('a fractional epoch', (s) => (s.epoch = 0.5), /entry 'epoch' is 0\.5, not a non-negative integer/),
  ckptCase('a step count that does not match the epochs', (s) => (s.step = 7), /entry 'step' is 7, impossible: 1 epoch\(s\) of 2 steps make 2/),
  ckptCase('the optimizer state missing', (s) => delete s.optimizer, /entry 'optimizer' is missing \(the optimiser state\)/),
  ckptCase('the optimizer state of the wrong shape', (s) => (s.optimizer = [1, 2]), /entry 'optimizer' is not an optimiser state/),
  ckptCase('the sampler state missing', (s) => delete s.loader, /entry 'loader' is missing \(the training sampler position\)/),
  ckptCase(
    'the loader position not matching the steps',
    (s) => ((s.loader as { nextBatch: number }).nextBatch = 40),
    /entry 'loader\.nextBatch' is 40, expected 2/,
  ),
  ckptCase('the early-stopping state missing', (s) => delete s.early, /entry 'early' is missing/),
  ckptCase('the history not a list', (s) => (s.history = 'x'), /entry 'history' is not a list/),
  ckptCase('a negative elapsed time', (s) => (s.elapsedSeconds = -5), /entry 'elapsedSeconds' is -5/),
  ckptCase('an unknown state version', (s) => (s.version = 7), /entry 'version' is 7, expected 1/),
  ckptCase(
    'hasBest without best weights',
    (s, t) => {
      s.hasBest = true;
      for (const n of [...t.keys()]) if (n.startsWith('best.')) t.delete(n);
    },
    /entry 'best\.\*' is missing/,
  ),
  ckptCase(
    'the model weights missing',
    (_s, t) => {
      for (const n of [...t.keys()]) if (n.startsWith('model.')) t.delete(n);
    },
    /entry 'model\.\*' is missing \(the model weights\)/,
  ),
  ckptCase(
    'the Adam moments missing',
    (_s, t) => {
      for (const n of [...t.keys()]) if (n.startsWith('optim.')) t.delete(n);
    },
    /entry 'optimizer\.state' is missing \(the Adam moments of a run 2 steps in\)/,
  ),
  ckptCase(
    'a sampler state from another dataset',
    (s) => {
      const sampler = (s.loader as { sampler: { queues?: number[][] } }).sampler;
      sampler.queues = [[999], [998]];
    },
    /cannot resume from checkpoint .*: sampler state/,
  ),
  ckptCase(
    'a weight of the wrong shape',
    (_s, t) => {
      const [n] = [...t.keys()].filter((k) => k.startsWith('model.'));
      t.set(n!, tensor(new Float32Array(3), [3]));
    },
    /cannot resume from checkpoint .*shape mismatch/,
  ),
  ckptCase('another format tag', (_s, _t, m) => (m.format = 'something-else/1'), /is not a ccp-dml checkpoint \(format 'something-else\/1'/),
  {
    area: 'checkpoint',
    name: 'state that is not JSON',
    code: 1,
    expect: /checkpoint state is not valid JSON/,
    run: async (dir) => {
      const copy = tamperedRun(dir, () => {});
      const ckpt = join(copy, 'checkpoint.safetensors');
      const f = loadSafetensors(ckpt);
      saveSafetensors(ckpt, new Map(f), { ...f.metadata, state: '{"epoch": ' });
      f.dispose();
      return { outcome: await attempt(() => train(runCfg, { runDir: copy, resume: true, quiet: true })), culprit: ckpt };
    },
  },
  {
    area: 'checkpoint',
    name: 'a truncated checkpoint',
    code: 1,
    expect: /cannot read checkpoint .*: safetensors: .*file is truncated/,
    run: async (dir) => {
      const copy = tamperedRun(dir, () => {});
      const ckpt = join(copy, 'checkpoint.safetensors');
      const size = readFileSync(ckpt).length;
      truncateSync(ckpt, Math.floor(size * 0.7));
      return { outcome: await attempt(() => train(runCfg, { runDir: copy, resume: true, quiet: true })), culprit: ckpt };
    },
  },
  {
    area: 'checkpoint',
    name: 'a checkpoint without a stored config and config.json deleted',
    code: 1,
    expect: /config\.json is missing and the checkpoint .* does not record the config it was trained with/,
    run: async (dir) => {
      const copy = tamperedRun(dir, (_s, _t, m) => delete m.config);
      rmSync(join(copy, 'config.json'));
      return { outcome: await attempt(() => train(runCfg, { runDir: copy, resume: true, quiet: true })), culprit: join(copy, 'checkpoint.safetensors') };
    },
  },
  {
    area: 'checkpoint',
    name: '--resume with a changed learning rate',
    code: 1,
    expect: /the config differs from the run's in optimizer\.lr \(0\.001 -> 0\.5\)/,
    run: async (dir) => {
      const copy = tamperedRun(dir, () => {});
      return {
        outcome: await attempt(() => train({ ...runCfg, optimizer: { ...runCfg.optimizer, lr: 0.5 } }, { runDir: copy, resume: true, quiet: true })),
        culprit: copy,
      };
    },
  },
  {
    area: 'checkpoint',
    name: 'a checkpoint that is a folder',
    code: 1,
    expect: /cannot read checkpoint .*is a folder, not a regular file/,
    run: async (dir) => {
      const copy = tamperedRun(dir, () => {});
      const ckpt = join(copy, 'checkpoint.safetensors');
      rmSync(ckpt);
      mkdirSync(ckpt);
      return { outcome: await attempt(() => train(runCfg, { runDir: copy, resume: true, quiet: true })), culprit: ckpt };
    },
  },
  {
    area: 'checkpoint',
    name: 'metrics.jsonl replaced by /dev/full: refused, not read forever',
    code: 1,
    expect: /metrics log .*metrics\.jsonl is a character device, not a regular file/,
    run: async (dir) => {
      const copy = tamperedRun(dir, () => {});
      const log = join(copy, 'metrics.jsonl');
      rmSync(log);
      symlinkSync('/dev/full', log);
      return { outcome: await attempt(() => train(runCfg, { runDir: copy, resume: true, quiet: true })), culprit: log };
    },
  },
  {
    area: 'checkpoint',
    name: 'a new run into a folder that holds a checkpoint',
    code: 1,
    expect: /already holds a checkpoint: pass --resume/,
    run: async (dir) => {
      const copy = tamperedRun(dir, () => {});
      return { outcome: await attempt(() => train(runCfg, { runDir: copy, quiet: true })), culprit: copy };
    },
  },

  // ---------------- signals and process exit (spawned) ----------------
  {
    area: 'signal',
    name: 'SIGTERM mid-run: the process ends at once and the run resumes from its checkpoint',
    code: 0,
    expect: /run folder: .*\(4 epochs, 40 steps/,
    run: async (dir) => {
      const cfg = tinyConfig(images, dir, { name: 'sigterm', training: { stepsPerEpoch: 10, maxEpochs: 4, earlyStopPatience: 100 } });
      const file = writeConfig(dir, 'sigterm.json', JSON.stringify(cfg));
      const child = spawn(process.execPath, [main, 'train', '-c', file, '-q'], { stdio: 'ignore' });
      const metrics = join(dir, 'sigterm/metrics.jsonl');
      await new Promise<void>((done) => {
        const timer = setInterval(() => {
          let n = 0;
          try {
            n = readFileSync(metrics, 'utf8').split('\n').filter(Boolean).length;
          } catch {
            /* not yet */
          }
          if (n >= 1) {
            clearInterval(timer);
            child.kill('SIGTERM');
            done();
          }
        }, 10);
      });
      const signal = await new Promise<string | null>((r) => child.on('exit', (_code, sig) => r(sig)));
      assert.equal(signal, 'SIGTERM');
      const again = cli(['train', '-c', file, '--resume', '-q']);
      return { outcome: again, culprit: join(dir, 'sigterm') };
    },
  },
  {
    area: 'signal',
    name: 'a run-file write that fails (file-size limit, like a full disk): a clear exit 1, then the next start trains',
    code: 0,
    expect: /run folder: .*\(2 epochs, 4 steps/,
    run: async (dir) => {
      const cfg = tinyConfig(images, dir, { name: 'fsize', training: { maxEpochs: 2 } });
      const file = writeConfig(dir, 'fsize.json', JSON.stringify(cfg));
      // 20 blocks of 512 bytes: config.json and the metrics line fit, the epoch's weight files do not: the
      // first of them (the best model, whose metadata holds the whole config, or the checkpoint, ~40 KB) fails
      // part-way (EFBIG, as ENOSPC on a full disk), after epoch 1's metrics line was written.
      const r = spawnSync('sh', ['-c', `ulimit -f 20; exec "${process.execPath}" "${main}" train -c "${file}" -q`], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /ccp-dml: writeFileAtomic: cannot write '.*fsize\/(model|checkpoint)\.safetensors': EFBIG/);
      // It failed before its first checkpoint was complete: the run folder goes (a failed start leaves nothing half-made),
      // temporary file included, and the next start trains from scratch.
      assert.ok(!existsSync(join(dir, 'fsize')), 'the failed first checkpoint left its run folder behind');
      return { outcome: cli(['train', '-c', file]), culprit: join(dir, 'fsize') };
    },
  },
  {
    area: 'signal',
    name: 'a finished run exits by itself (nothing keeps the process alive)',
    code: 0,
    expect: /run folder: .*\(1 epochs, 2 steps/,
    run: async (dir) => {
      const cfg = tinyConfig(images, dir, { name: 'exits', training: { maxEpochs: 1 } });
      return { outcome: cli(['train', '-c', writeConfig(dir, 'exits.json', JSON.stringify(cfg)), '-q'], 30_000), culprit: join(dir, 'exits') };
    },
  },
  {
    area: 'signal',
    name: 'a failing run exits with code 1 (not a hang, not a crash)',
    code: 1,
    expect: /ccp-dml: [\s\S]*cannot decode image header/,
    run: async (dir) => {
      const root = folderCopy(dir);
      writeFileSync(join(root, 'class02/img2.png'), 'bad');
      const cfg = tinyConfig(root, dir, { name: 'fails' });
      return { outcome: cli(['train', '-c', writeConfig(dir, 'fails.json', JSON.stringify(cfg)), '-q'], 30_000), culprit: join(root, 'class02/img2.png') };
    },
  },

  // ---------------- the command line ----------------
  {
    area: 'cli',
    name: 'train --config FIFO --preset mnist: refused at once',
    code: 1,
    expect: /config file .* is a FIFO/,
    run: async (dir) => {
      const p = join(dir, 'c.yaml');
      execFileSync('mkfifo', [p]);
      return { outcome: await attempt(() => resolveConfig({ preset: 'mnist', file: p })), culprit: p };
    },
  },
  {
    area: 'cli',
    name: 'train --model mlp --set model.options.hiden=[4]: a misspelt model option',
    code: 1,
    expect: /model\.options: unknown key\(s\) 'hiden' for model 'mlp'; known: hidden, batchNorm, dropout/,
    run: async () => ({
      outcome: await attempt(() => {
        const cfg = resolveConfig({ preset: 'mnist', overrides: [{ model: { name: 'mlp' } }, parseOverride('model.options.hiden=[4]')] });
        buildModel(cfg, [1, 28, 28]);
      }),
      culprit: 'hiden',
    }),
  },
  {
    area: 'cli',
    name: 'train --set training.prefetchBatches=-1',
    code: 1,
    expect: /training\.prefetchBatches: Too small/,
    run: async () => ({
      outcome: await attempt(() => resolveConfig({ preset: 'mnist', overrides: [parseOverride('training.prefetchBatches=-1')] })),
      culprit: 'prefetchBatches',
    }),
  },
  {
    area: 'cli',
    name: 'eval of a folder that is not a run',
    code: 1,
    expect: /is not a run folder: no config\.json/,
    run: async (dir) => ({ outcome: await attempt(() => evaluateCommand({ run: dir, split: 'test' })), culprit: dir }),
  },
  {
    area: 'cli',
    name: 'eval with a corrupt config.json',
    code: 1,
    expect: /config\.json: not valid JSON/,
    run: async (dir) => {
      const p = writeConfig(dir, 'config.json', '{"name": ');
      return { outcome: await attempt(() => evaluateCommand({ run: dir, split: 'test' })), culprit: p };
    },
  },
  {
    area: 'cli',
    name: 'eval with weights that are not safetensors',
    code: 1,
    expect: /safetensors: .*junk\.safetensors/,
    run: async (dir) => {
      const w = writeConfig(dir, 'junk.safetensors', 'this is not a weights file at all');
      return { outcome: await attempt(() => evaluateCommand({ run: runDir, weights: w, split: 'test' })), culprit: w };
    },
  },
  {
    area: 'cli',
    name: 'embed to an unknown file type',
    code: 1,
    expect: /--output must end in \.npy or \.safetensors, got .*out\.csv/,
    run: async (dir) => {
      return { outcome: await attempt(() => embedCommand({ run: finishedDir, output: join(dir, 'out.csv'), split: 'test' })), culprit: 'out.csv' };
    },
  },
  {
    area: 'cli',
    name: 'search with a query image that does not exist',
    code: 1,
    expect: /nope\.png/,
    run: async (dir) => {
      const q = join(dir, 'nope.png');
      return { outcome: await attempt(() => searchCommand({ run: finishedDir, gallery: images, queries: [q], k: 2 })), culprit: q };
    },
  },
  {
    area: 'cli',
    name: 'search in a gallery holding a file name that is not UTF-8',
    code: 1,
    expect: /the name is not valid UTF-8; rename it/,
    run: async (dir) => {
      const root = folderCopy(dir);
      writeFileSync(Buffer.concat([Buffer.from(join(root, 'class01') + '/g'), Buffer.from([0xc3, 0x28]), Buffer.from('.png')]), await pngBytes());
      const q = join(root, 'class00/img0.png');
      return {
        outcome: await attempt(() => searchCommand({ run: finishedDir, gallery: root, queries: [q], k: 2 })),
        culprit: `${join(root, 'class01')}/g\\xc3(.png`,
      };
    },
  },
  {
    area: 'cli',
    name: 'search with a corrupt query image',
    code: 1,
    expect: /bad\.png: cannot decode image/,
    run: async (dir) => {
      const q = writeConfig(dir, 'bad.png', 'not a png');
      return { outcome: await attempt(() => searchCommand({ run: finishedDir, gallery: images, queries: [q], k: 2 })), culprit: q };
    },
  },
];

test('the corpus holds at least 60 cases covering every area', () => {
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  for (const area of ['image', 'dataset', 'config', 'safetensors', 'checkpoint', 'signal', 'cli'] as const) {
    assert.ok(
      cases.some((c) => c.area === area),
      area,
    );
  }
  assert.equal(new Set(cases.map((c) => `${c.area}: ${c.name}`)).size, cases.length, 'case names are unique');
});

for (const c of cases) {
  test(`${c.area}: ${c.name}`, { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmp, 'case-'));
    const { outcome, culprit } = await c.run(dir);
    assert.equal(outcome.code, c.code, `exit code ${outcome.code}, expected ${c.code}; output:\n${outcome.text}`);
    assert.match(outcome.text, c.expect);
    if (c.code === 0) assert.ok(outcome.text.trim() !== '', 'a code-0 case must report what it found');
    assert.ok(outcome.text.includes(culprit), `the message names '${culprit}':\n${outcome.text}`);
  });
}
