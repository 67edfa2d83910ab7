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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A name's bytes as printable text: valid UTF-8 as is, other bytes as \xNN. */
function escapeName(raw: Buffer): string {
  return [...raw].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

/**
 * Entries of a folder, sorted by name. Names that are not valid UTF-8 cannot round-trip through a string
 * path (they would turn into U+FFFD and "file not found" later); they are reported under the policy.
 */
export function readEntries(dir: string, exts: ReadonlySet<string>, opts: FileSourceOptions): { name: string; isDirectory: boolean }[] {
  const out: { name: string; isDirectory: boolean }[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
    const raw = e.name as unknown as Buffer;
    let name: string;
    try {
      name = utf8.decode(raw);
    } catch {
      // Only what would have been used (a folder, an image by its extension) is worth reporting.
      const lenient = raw.toString('utf8');
      if (!e.isDirectory() && !exts.has(path.extname(lenient).toLowerCase())) continue;
      handleBad(opts, new DataError(path.join(dir, escapeName(raw)), 'the name is not valid UTF-8; rename it'));
      continue;
    }
    out.push({ name, isDirectory: e.isDirectory() });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Image files (by extension) in a folder, sorted by name; with `recursive`, sub-folders' files in place. */
export function listImageFiles(dir: string, exts: ReadonlySet<string>, recursive: boolean, opts: FileSourceOptions): string[] {
  const out: string[] = [];
  for (const e of readEntries(dir, exts, opts)) {
    const p = path.join(dir, e.name);
    if (e.isDirectory) {
      if (recursive) out.push(...listImageFiles(p, exts, true, opts));
    } else if (exts.has(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

export function loadImageFolder(root: string, opts: ImageFolderOptions = {}): ImageDataset {
  const abs = path.resolve(root);
  if (!isDir(abs)) throw new DataError(abs, 'image folder not found (expected one sub-folder per class)');
  const exts = new Set((opts.extensions ?? IMAGE_EXTENSIONS).map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
  const classes = readEntries(abs, exts, opts)
    .filter((e) => e.isDirectory && !e.name.startsWith('.'))
    .map((e) => e.name);
  if (classes.length === 0) throw new DataError(abs, 'no class sub-folders');
  const raw: RawItem[] = [];
  const order: string[] = [];
  for (const c of classes) {
    const files = listImageFiles(path.join(abs, c), exts, opts.recursive ?? false, opts);
    if (files.length === 0) {
      handleBad(opts, new DataError(path.join(abs, c), `class '${c}' has no images (extensions ${[...exts].join(' ')})`));
      continue;
    }
    order.push(c);
    for (const f of files) raw.push({ source: { kind: 'file', path: f }, className: c });
  }
  return ImageDataset.build(opts.name ?? path.basename(abs), raw, { classOrder: order, onBadItem: opts.onBadItem, warn: opts.warn });
}
