// The dataset abstraction: a list of labelled image items plus a class-name <-> label map.
// Items point at a file on disk, an entry of a zip archive, or an image in an in-memory pixel block
// (MNIST). Labels are always contiguous 0..C-1 and `classNames[label]` is the class's name.
import { DataError, handleBad, type BadItemPolicy } from './errors.js';
import { openZip } from './zip.js';
import { readImageFile } from './input-limits.js';

export type ItemSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'zip'; readonly zip: string; readonly entry: string }
  | { readonly kind: 'memory'; readonly index: number };

export interface DatasetItem {
  readonly source: ItemSource;
  /** Contiguous label 0..C-1; `classNames[label] === className`. */
  readonly label: number;
  readonly className: string;
  /** Split tag from the annotation ('train', 'test', 'query', 'gallery', ...), when the source has one. */
  readonly split?: string;
  /** Annotation file and line that produced the item (`file:line`), used in error messages. */
  readonly origin?: string;
}

/** A block of same-sized 8-bit images held in memory (item source `{kind: 'memory', index}`). */
export interface MemoryImages {
  readonly name: string;
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly count: number;
}

/** What `ImageDataset.load` returns: encoded bytes (PNG/JPEG/...) or raw interleaved HWC uint8 pixels. */
export type ImageInput =
  | { readonly kind: 'encoded'; readonly bytes: Buffer; readonly where: string }
  | {
      readonly kind: 'raw';
      readonly data: Uint8Array;
      readonly width: number;
      readonly height: number;
      readonly channels: 1 | 2 | 3 | 4;
      readonly where: string;
    };

/** An item before labels are assigned (what the source parsers produce). */
export interface RawItem {
  source: ItemSource;
  className: string;
  split?: string;
  origin?: string;
}

export interface BuildOptions extends BadItemPolicy {
  /**
   * Class order (label = position). Classes listed here with no items are "empty classes": an error, or
   * dropped under onBadItem 'skip'. Items whose class is not listed are "unknown labels" (same policy).
   * Default: the distinct class names sorted (numerically when all are integers, else by code unit).
   */
  classOrder?: readonly string[];
  memory?: MemoryImages;
  /** Keep classes of `classOrder` that have no items (their labels stay reserved). For label spaces shared
   *  between datasets, e.g. In-Shop query/gallery. Default false: empty classes are errors. */
  allowEmptyClasses?: boolean;
}

export function describeSource(s: ItemSource, memory?: MemoryImages): string {
  switch (s.kind) {
    case 'file':
      return s.path;
    case 'zip':
      return `${s.zip}!${s.entry}`;
    case 'memory':
      return `${memory?.name ?? 'memory'}#${s.index}`;
  }
}

/** Sorts class names numerically when all are integers, else by code unit order. */
export function sortClassNames(names: Iterable<string>): string[] {
  const arr = [...new Set(names)];
  if (arr.length > 0 && arr.every((n) => /^-?\d+$/.test(n))) return arr.sort((a, b) => Number(a) - Number(b));
  return arr.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export class ImageDataset {
  readonly name: string;
  readonly items: readonly DatasetItem[];
  readonly classNames: readonly string[];
  readonly memory?: MemoryImages;
  private readonly labelByName: Map<string, number>;
  private byClass?: number[][];

  /**
   * Low-level constructor: items must already carry contiguous labels consistent with `classNames`, and
   * every class must have at least one item (checked). Most code uses `ImageDataset.build`.
   */
  constructor(name: string, items: readonly DatasetItem[], classNames: readonly string[], memory?: MemoryImages, opts: { allowEmptyClasses?: boolean } = {}) {
    this.name = name;
    this.items = items;
    this.classNames = classNames;
    this.memory = memory;
    this.labelByName = new Map(classNames.map((n, i) => [n, i]));
    if (this.labelByName.size !== classNames.length) throw new Error(`dataset ${name}: duplicate class names`);
    const counts = new Int32Array(classNames.length);
    items.forEach((it, i) => {
      if (!Number.isInteger(it.label) || it.label < 0 || it.label >= classNames.length) {
        throw new DataError(it.origin ?? describeSource(it.source, memory), `item ${i} has label ${it.label}, outside 0..${classNames.length - 1}`);
      }
      if (classNames[it.label] !== it.className) {
        throw new DataError(
          it.origin ?? describeSource(it.source, memory),
          `item ${i}: label ${it.label} is class '${classNames[it.label]}', item says '${it.className}'`,
        );
      }
      if (it.source.kind === 'memory' && (!memory || it.source.index < 0 || it.source.index >= memory.count)) {
        throw new DataError(describeSource(it.source, memory), `memory index outside the ${memory?.count ?? 0} images held`);
      }
      counts[it.label]!++;
    });
    const empty = opts.allowEmptyClasses ? -1 : classNames.findIndex((_, c) => counts[c] === 0);
    if (empty >= 0) throw new DataError(`dataset ${name}`, `class '${classNames[empty]}' (label ${empty}) has no images`);
  }

  /**
   * Assigns labels to raw items and validates: unknown classes, empty classes (both subject to the
   * onBadItem policy). Labels are contiguous after any skipping.
   */
  static build(name: string, raw: readonly RawItem[], opts: BuildOptions = {}): ImageDataset {
    let order: string[];
    if (opts.classOrder) {
      order = [...opts.classOrder];
      const seen = new Set<string>();
      for (const c of order) {
        if (seen.has(c)) throw new Error(`dataset ${name}: class '${c}' appears twice in classOrder`);
        seen.add(c);
      }
    } else order = sortClassNames(raw.map((r) => r.className));
    const known = new Set(order);
    const kept: RawItem[] = [];
    for (const r of raw) {
      if (!known.has(r.className)) {
        handleBad(
          opts,
          new DataError(r.origin ?? describeSource(r.source, opts.memory), `unknown label '${r.className}' (not among the ${order.length} classes)`),
        );
        continue;
      }
      kept.push(r);
    }
    const counts = new Map<string, number>();
    for (const r of kept) counts.set(r.className, (counts.get(r.className) ?? 0) + 1);
    const nonEmpty: string[] = [];
    for (const c of order) {
      if (!counts.get(c) && opts.allowEmptyClasses) nonEmpty.push(c);
      else if (!counts.get(c)) handleBad(opts, new DataError(`dataset ${name}`, `class '${c}' has no images`));
      else nonEmpty.push(c);
    }
    const labelOf = new Map(nonEmpty.map((n, i) => [n, i]));
    const items: DatasetItem[] = kept.map((r) => ({
      source: r.source,
      className: r.className,
      label: labelOf.get(r.className)!,
      split: r.split,
      origin: r.origin,
    }));
    return new ImageDataset(name, items, nonEmpty, opts.memory, { allowEmptyClasses: opts.allowEmptyClasses });
  }

  get size(): number {
    return this.items.length;
  }
  get numClasses(): number {
    return this.classNames.length;
  }

  /** Label of a class name; throws naming the class when unknown. */
  labelOf(className: string): number {
    const l = this.labelByName.get(className);
    if (l === undefined) throw new Error(`dataset ${this.name}: unknown class '${className}'`);
    return l;
  }
  nameOf(label: number): string {
    const n = this.classNames[label];
    if (n === undefined) throw new Error(`dataset ${this.name}: label ${label} outside 0..${this.numClasses - 1}`);
    return n;
  }

  /** All labels, in item order. */
  labels(): Int32Array {
    return Int32Array.from(this.items, (it) => it.label);
  }

  /** Item indices of each class (label order; indices ascending). Cached. */
  classIndices(): readonly (readonly number[])[] {
    if (!this.byClass) {
      const by: number[][] = Array.from({ length: this.numClasses }, () => []);
      this.items.forEach((it, i) => by[it.label]!.push(i));
      this.byClass = by;
    }
    return this.byClass;
  }

  /** Human-readable location of item i: file path, `zip!entry` or `name#index`. */
  where(i: number): string {
    const it = this.item(i);
    return describeSource(it.source, this.memory);
  }

  item(i: number): DatasetItem {
    const it = this.items[i];
    if (!it) throw new Error(`dataset ${this.name}: item index ${i} outside 0..${this.size - 1}`);
    return it;
  }

  /** Loads item i's image (encoded bytes or raw pixels). Failures are DataErrors naming the source. */
  async load(i: number): Promise<ImageInput> {
    const it = this.item(i);
    const where = describeSource(it.source, this.memory);
    const s = it.source;
    switch (s.kind) {
      case 'file': {
        return { kind: 'encoded', bytes: await readImageFile(s.path), where };
      }
      case 'zip': {
        const zip = await openZip(s.zip);
        return { kind: 'encoded', bytes: await zip.read(s.entry), where };
      }
      case 'memory': {
        const m = this.memory!;
        const n = m.width * m.height * m.channels;
        return { kind: 'raw', data: m.pixels.subarray(s.index * n, (s.index + 1) * n), width: m.width, height: m.height, channels: m.channels, where };
      }
    }
  }

  /**
   * A new dataset with the given items (in the given order). With `remap` (default) labels are renumbered
   * contiguously, keeping the relative order of the old labels, and classes with no selected item vanish.
   */
  subset(indices: readonly number[], opts: { name?: string; remap?: boolean } = {}): ImageDataset {
    const name = opts.name ?? this.name;
    const picked = indices.map((i) => this.item(i));
    if (opts.remap === false) return new ImageDataset(name, picked, this.classNames, this.memory, { allowEmptyClasses: true });
    const present = new Set(picked.map((it) => it.label));
    const oldLabels = [...present].sort((a, b) => a - b);
    const newOf = new Map(oldLabels.map((l, k) => [l, k]));
    const items = picked.map((it) => ({ ...it, label: newOf.get(it.label)! }));
    return new ImageDataset(
      name,
      items,
      oldLabels.map((l) => this.classNames[l]!),
      this.memory,
    );
  }

  /** Items whose label is in `labels`, relabelled contiguously in ascending old-label order. */
  selectClasses(labels: Iterable<number>, name?: string): ImageDataset {
    const keep = new Set(labels);
    for (const l of keep) this.nameOf(l);
    const idx: number[] = [];
    this.items.forEach((it, i) => {
      if (keep.has(it.label)) idx.push(i);
    });
    return this.subset(idx, { name });
  }

  /** Items with the given split tag(s), relabelled contiguously. */
  filterSplit(split: string | readonly string[], name?: string): ImageDataset {
    const want = new Set(typeof split === 'string' ? [split] : split);
    const idx: number[] = [];
    this.items.forEach((it, i) => {
      if (it.split !== undefined && want.has(it.split)) idx.push(i);
    });
    if (idx.length === 0) throw new Error(`dataset ${this.name}: no items with split ${[...want].join('/')}`);
    return this.subset(idx, { name: name ?? `${this.name}/${[...want].join('+')}` });
  }

  /** Number of items per class (label order). */
  classCounts(): Int32Array {
    return Int32Array.from(this.classIndices(), (a) => a.length);
  }
}
