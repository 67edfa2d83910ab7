// Omniglot (Lake, Salakhutdinov & Tenenbaum, Science 2015), read directly from the official zips
// (https://github.com/brendenlake/omniglot, folder python/): images_background.zip (30 alphabets,
// 964 characters, 19,280 PNGs), images_evaluation.zip (20 alphabets, 659 characters, 13,180 PNGs),
// images_background_small1.zip / _small2.zip. Layout inside a zip: <top>/<Alphabet>/characterNN/<id>_<drawer>.png.
// Class = "<Alphabet>/characterNN"; classes are ordered by code unit (alphabet, then character folder).
import path from 'node:path';
import { DataError, handleBad, type BadItemPolicy } from '../errors.js';
import { ImageDataset, type RawItem } from '../dataset.js';
import { openZip } from '../zip.js';

export type OmniglotSet = 'background' | 'evaluation' | 'background_small1' | 'background_small2';
export const OMNIGLOT_SETS: readonly OmniglotSet[] = ['background', 'evaluation', 'background_small1', 'background_small2'];

export interface OmniglotOptions extends BadItemPolicy {
  /** Folder holding the zips (e.g. path.resolve(repoRoot, '../shared/data/omniglot')). */
  root?: string;
  set?: OmniglotSet;
  /** An explicit zip path instead of root + set. */
  zipPath?: string;
  name?: string;
}

export function omniglotZipPath(root: string, set: OmniglotSet): string {
  if (!OMNIGLOT_SETS.includes(set)) throw new Error(`Omniglot set must be one of ${OMNIGLOT_SETS.join(', ')}, got ${JSON.stringify(set)}`);
  return path.join(root, `images_${set}.zip`);
}

/** Lists an Omniglot zip into a dataset of zip-entry items (no image is decoded here). */
export async function loadOmniglot(opts: OmniglotOptions): Promise<ImageDataset> {
  const zipPath = opts.zipPath ?? (opts.root !== undefined ? omniglotZipPath(opts.root, opts.set ?? 'background') : undefined);
  if (!zipPath) throw new Error('loadOmniglot(): give root (+ set) or zipPath');
  const zip = await openZip(zipPath);
  const raw: RawItem[] = [];
  for (const name of zip.fileNames()) {
    const parts = name.split('/');
    if (!/\.png$/i.test(name)) continue;
    if (parts.length !== 4) {
      handleBad(opts, new DataError(`${zip.path}!${name}`, 'expected <top>/<Alphabet>/<character>/<file>.png'));
      continue;
    }
    raw.push({ source: { kind: 'zip', zip: zip.path, entry: name }, className: `${parts[1]}/${parts[2]}` });
  }
  if (raw.length === 0) throw new DataError(zip.path, 'no PNG images found in the zip archive');
  const name = opts.name ?? `omniglot-${opts.set ?? path.basename(zipPath, '.zip')}`;
  return ImageDataset.build(name, raw, { onBadItem: opts.onBadItem, warn: opts.warn });
}

/** The standard class-disjoint split: train = background set, test = evaluation set. */
export async function omniglotSplit(root: string, opts: BadItemPolicy = {}): Promise<{ train: ImageDataset; test: ImageDataset }> {
  return {
    train: await loadOmniglot({ ...opts, root, set: 'background' }),
    test: await loadOmniglot({ ...opts, root, set: 'evaluation' }),
  };
}
