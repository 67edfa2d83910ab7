// Checking every image of a split before training starts: each file (or zip entry) is opened and its header
// decoded (format, width, height, pixel limit), so a corrupt, missing or oversized image of the test split
// fails the run in seconds instead of after hours of training. Under onBadItem 'skip' the bad items are
// removed and listed; classes left without images are listed too.
import sharp from 'sharp';
import { DataError, type OnBadItem } from './errors.js';
import type { ImageDataset } from './dataset.js';
import { checkImagePixels } from './input-limits.js';

export interface SkippedItem {
  /** Split name as the report shows it ('train', 'test query', ...). */
  split: string;
  /** File path or zip!entry. */
  where: string;
  reason: string;
}

export interface PreflightResult {
  dataset: ImageDataset;
  skipped: SkippedItem[];
  /** Classes that lost every image to skipping. */
  emptiedClasses: string[];
}

/** Reads the header of item i; throws a DataError naming the file. */
async function checkItem(ds: ImageDataset, i: number): Promise<void> {
  const input = await ds.load(i);
  if (input.kind !== 'encoded') return;
  let width: number | undefined;
  let height: number | undefined;
  try {
    const m = await sharp(input.bytes, { failOn: 'warning', limitInputPixels: false }).metadata(); // the header only; the limit is checked below with a clearer message
    width = m.width;
    height = m.height;
  } catch (e) {
    throw new DataError(input.where, `cannot decode image header: ${(e as Error).message}`, { cause: e });
  }
  if (!width || !height) throw new DataError(input.where, 'image has no dimensions');
  checkImagePixels(input.where, width, height);
}

/**
 * Checks the header of every file-backed item of `ds` (at most `concurrency` at a time). Under 'fail' the
 * error lists every bad item (up to 10 by name); under 'skip' they are removed from the returned dataset.
 */
export async function preflightImages(ds: ImageDataset, split: string, onBadItem: OnBadItem, concurrency = 8): Promise<PreflightResult> {
  const bad: { index: number; error: DataError }[] = [];
  if (ds.memory === undefined) {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ds.size; i = next++) {
        try {
          await checkItem(ds, i);
        } catch (e) {
          if (!(e instanceof DataError)) throw e;
          bad.push({ index: i, error: e });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ds.size) }, worker));
  }
  if (bad.length === 0) return { dataset: ds, skipped: [], emptiedClasses: [] };
  bad.sort((a, b) => a.index - b.index);
  if (onBadItem === 'fail') {
    const shown = bad.slice(0, 10).map((b) => `  ${b.error.message}`);
    const more = bad.length > 10 ? `\n  ... and ${bad.length - 10} more` : '';
    throw new DataError(
      bad[0]!.error.where,
      `${bad.length} bad image(s) in the ${split} split (${ds.name}), found before training:\n${shown.join('\n')}${more}\n(dataset.onBadItem: skip drops them instead)`,
    );
  }
  const badSet = new Set(bad.map((b) => b.index));
  const keep = ds.items.flatMap((_, i) => (badSet.has(i) ? [] : [i]));
  if (keep.length === 0) throw new DataError(`dataset ${ds.name}`, `every image of the ${split} split is bad (first: ${bad[0]!.error.message})`);
  const before = new Set(ds.classNames);
  const dataset = ds.subset(keep, { name: ds.name });
  const after = new Set(dataset.classNames);
  return {
    dataset,
    skipped: bad.map((b) => ({ split, where: b.error.where, reason: b.error.message })),
    emptiedClasses: [...before].filter((c) => !after.has(c)),
  };
}
