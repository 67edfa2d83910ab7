// A generic image folder: <root>/<class name>/<image files> (one sub-folder per class, like torchvision's
// ImageFolder). Classes are sorted by name; files within a class by name. Sub-folders deeper than one level
// are included when `recursive` is set.
import fs from 'node:fs';
import path from 'node:path';
import { DataError, handleBad } from '../errors.js';
import { ImageDataset, type RawItem } from '../dataset.js';
import { isDir, type FileSourceOptions } from './common.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'];

export interface ImageFolderOptions extends FileSourceOptions {
  extensions?: readonly string[];
  recursive?: boolean;
  name?: string;
}

function listImages(dir: string, exts: Set<string>, recursive: boolean): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...listImages(p, exts, true));
    } else if (exts.has(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

export function loadImageFolder(root: string, opts: ImageFolderOptions = {}): ImageDataset {
  const abs = path.resolve(root);
  if (!isDir(abs)) throw new DataError(abs, 'image folder not found (expected one sub-folder per class)');
  const exts = new Set((opts.extensions ?? IMAGE_EXTENSIONS).map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
  const classes = fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classes.length === 0) throw new DataError(abs, 'no class sub-folders');
  const raw: RawItem[] = [];
  const order: string[] = [];
  for (const c of classes) {
    const files = listImages(path.join(abs, c), exts, opts.recursive ?? false);
    if (files.length === 0) {
      handleBad(opts, new DataError(path.join(abs, c), `class '${c}' has no images (extensions ${[...exts].join(' ')})`));
      continue;
    }
    order.push(c);
    for (const f of files) raw.push({ source: { kind: 'file', path: f }, className: c });
  }
  return ImageDataset.build(opts.name ?? path.basename(abs), raw, { classOrder: order, onBadItem: opts.onBadItem, warn: opts.warn });
}
