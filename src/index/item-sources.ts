// What gets indexed: images of a folder (class = sub-folder), of a CSV manifest, or of a run's dataset
// split, as a dataset plus each item's id, path and label.
import { statSync, existsSync } from 'node:fs';
import { relative, dirname, basename, resolve } from 'node:path';
import { ImageDataset, IMAGE_EXTENSIONS, describeSource, listImageFiles, type RawItem } from '../data/index.js';
import type { IndexItem } from './vector-index.js';

const imageExts: ReadonlySet<string> = new Set(IMAGE_EXTENSIONS);

/** Every image under dir (recursively); the class is the sub-folder path ('.' for files at the top). */
export function folderImages(dir: string): ImageDataset {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`image folder not found: ${dir}`);
  // Names that are not UTF-8 are errors naming the folder and the bytes (they cannot be opened by a string path).
  const files = listImageFiles(dir, imageExts, true, { onBadItem: 'fail' });
  const raw = files.map((p): RawItem => ({ source: { kind: 'file', path: p }, className: relative(dir, dirname(p)) || '.' }));
  if (!raw.length) throw new Error(`no images (${IMAGE_EXTENSIONS.join(' ')}) under ${dir}`);
  return ImageDataset.build(basename(dir), raw);
}

/** The given image files, in order. */
export function fileImages(paths: readonly string[]): ImageDataset {
  const raw = paths.map((p): RawItem => {
    if (!existsSync(p)) throw new Error(`query image not found: ${p}`);
    return { source: { kind: 'file', path: p }, className: p };
  });
  return ImageDataset.build('queries', raw, { classOrder: [...new Set(paths)] });
}

/**
 * Id, path and label of every item. Files are identified by their path relative to `root` when given (a
 * folder's images), else by the path as the source names it; zip entries as `archive!entry`, in-memory
 * images (MNIST) as `name#index`. The label is the original class name ('.' = no class: null).
 */
export function itemsOf(ds: ImageDataset, root?: string): IndexItem[] {
  return ds.items.map((it) => {
    const where = describeSource(it.source, ds.memory);
    const path = it.source.kind === 'file' ? resolve(it.source.path) : it.source.kind === 'zip' ? where : null;
    const id = it.source.kind === 'file' && root ? relative(root, it.source.path) : where;
    return { id, path, label: it.className === '.' ? null : it.className };
  });
}
