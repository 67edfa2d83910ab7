// Paths and small utilities for the data tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageDataset, type RawItem } from '../../src/data/index.js';
import { tempDir } from '../helpers/tmp.js';

/** Repo root (tests run from dist/test/data/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixtures = path.join(repoRoot, 'test', 'fixtures', 'data');
/** Shared real data beside the repo (CI clones the repo with shared/ next to it). */
export const omniglotDir = path.resolve(repoRoot, '../shared/data/omniglot');

/** A fresh temp dir, optionally with a copy of a fixture folder. */
export function tmpCopy(fixture?: string): string {
  const dir = tempDir('data');
  if (fixture) fs.cpSync(path.join(fixtures, fixture), dir, { recursive: true });
  return dir;
}

/** Collects warnings of the 'skip' policy. */
export function warnings(): { warn: (m: string) => void; list: string[] } {
  const list: string[] = [];
  return { list, warn: (m: string) => list.push(m) };
}

/** A dataset of fake file items with the given class sizes (class names c000, c001, ...). */
export function fakeDataset(sizes: number[], name = 'fake'): ImageDataset {
  const raw: RawItem[] = [];
  sizes.forEach((n, c) => {
    for (let j = 0; j < n; j++) raw.push({ source: { kind: 'file', path: `/nonexistent/${c}/${j}.png` }, className: `c${String(c).padStart(3, '0')}` });
  });
  return ImageDataset.build(name, raw);
}
