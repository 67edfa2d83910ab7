// Batch loading with prefetch: while the consumer works on batch t, batches t+1..t+prefetch are decoded
// (at most `concurrency` images at a time through sharp). Augmentation randomness is keyed by
// (seed, batch number, position in batch), never by completion order, so prefetching, concurrency and
// resume do not change the batches: a prefetching loader yields exactly what a non-prefetching one does.
import { DataError, checkPolicy, defaultWarn, type BadItemPolicy } from './errors.js';
import type { ImageDataset, ImageInput } from './dataset.js';
import type { BatchSampler, SamplerState } from './samplers.js';
import { Rng, deriveSeed } from './random.js';
import { decodeImage, normalizeToChw, outputShape, transformPixels, type Mode, type RawPixels, type TransformOptions } from './transforms.js';

export interface Batch {
  /** CHW images, concatenated: shape [B, C, H, W]. */
  images: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  /** Dataset indices of the batch's items. */
  indices: Int32Array;
  /** Batch sequence number (0-based since the loader started, continued across setState). */
  batchIndex: number;
  /** Indices dropped from this batch under onBadItem 'skip'. */
  skipped: number[];
}

export interface ImageLoaderOptions extends BadItemPolicy {
  /** 'train': random resized crop + flip; 'test': resize shorter side + centre crop. */
  mode: Mode;
  transform: TransformOptions;
  /** Seed of the augmentation randomness (default 0). */
  seed?: number;
  /** Images decoded at the same time (default 4). */
  concurrency?: number;
  /**
   * In-memory cache: 'decoded' keeps each decoded image (at most `cacheMaxSide` on its longer side, grey
   * images stay 1 channel) so files/zips are read and decoded once; 'output' keeps the final CHW float
   * arrays and is for 'test' mode only (deterministic). Default 'none'.
   */
  cache?: 'none' | 'decoded' | 'output';
  cacheMaxSide?: number;
}

class Limiter {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Loads and preprocesses items of one dataset (cache, concurrency limit, bad-item policy). */
export class ImageLoader {
  readonly shape: [number, number, number];
  private readonly limiter: Limiter;
  private readonly decoded = new Map<number, RawPixels>();
  private readonly outputs = new Map<number, Float32Array>();
  /** Items that failed under 'skip' (not retried). */
  readonly bad = new Set<number>();

  constructor(
    readonly dataset: ImageDataset,
    readonly opts: ImageLoaderOptions,
  ) {
    checkPolicy(opts);
    this.shape = outputShape(opts.transform);
    const conc = opts.concurrency ?? 4;
    if (!Number.isInteger(conc) || conc < 1) throw new Error(`concurrency must be a positive integer, got ${conc}`);
    this.limiter = new Limiter(conc);
    const cache = opts.cache ?? 'none';
    if (cache !== 'none' && cache !== 'decoded' && cache !== 'output')
      throw new Error(`cache must be 'none', 'decoded' or 'output', got ${JSON.stringify(cache)}`);
    if (cache === 'output' && opts.mode !== 'test') throw new Error("cache 'output' is only valid in 'test' mode (train outputs are random)");
    if (opts.mode !== 'train' && opts.mode !== 'test') throw new Error(`mode must be 'train' or 'test', got ${JSON.stringify(opts.mode)}`);
  }

  /** Number of values of one preprocessed image. */
  get itemSize(): number {
    return this.shape[0] * this.shape[1] * this.shape[2];
  }

  private async input(i: number): Promise<ImageInput> {
    if ((this.opts.cache ?? 'none') !== 'decoded') return this.dataset.load(i);
    let px = this.decoded.get(i);
    if (!px) {
      px = await decodeImage(await this.dataset.load(i), { maxSide: this.opts.cacheMaxSide, kernel: this.opts.transform.kernel });
      this.decoded.set(i, px);
    }
    return { kind: 'raw', data: px.data, width: px.width, height: px.height, channels: px.channels, where: this.dataset.where(i) };
  }

  /**
   * Preprocesses item i into out[offset..]. `seedParts` key the augmentation randomness. Errors are
   * DataErrors naming the file / zip entry.
   */
  async loadInto(i: number, out: Float32Array, offset: number, seedParts: number[]): Promise<void> {
    const cached = this.outputs.get(i);
    if (cached) {
      out.set(cached, offset);
      return;
    }
    await this.limiter.run(async () => {
      const input = await this.input(i);
      const t = this.opts.transform;
      const [C, H, W] = this.shape;
      let px: RawPixels;
      if (input.kind === 'raw' && this.opts.mode === 'test' && input.width === W && input.height === H && input.channels === C) {
        px = { data: input.data, width: W, height: H, channels: C as 1 | 3 }; // already the output geometry
      } else {
        const rng = this.opts.mode === 'train' ? new Rng(deriveSeed(this.opts.seed ?? 0, ...seedParts)) : undefined;
        px = await transformPixels(input, this.opts.mode, t, rng);
      }
      normalizeToChw(px, t.normalize, out, offset);
      if (this.opts.cache === 'output') this.outputs.set(i, out.slice(offset, offset + this.itemSize));
    });
  }

  /**
   * Loads a batch of dataset indices. Item k's augmentation is seeded by (seed, batchIndex, firstPosition + k)
   * (a rank's slice of a global batch passes its offset, so each item gets what a single process gives it).
   * Under onBadItem 'skip' failing items are dropped (and remembered); under 'fail' the first failure throws.
   */
  async loadBatch(indices: readonly number[], batchIndex = 0, firstPosition = 0): Promise<Batch> {
    const n = this.itemSize;
    const buf = new Float32Array(indices.length * n);
    const ok = new Array<boolean>(indices.length).fill(true);
    const skip = (this.opts.onBadItem ?? 'fail') === 'skip';
    const results = await Promise.allSettled(
      indices.map(async (idx, k) => {
        if (!Number.isInteger(idx) || idx < 0 || idx >= this.dataset.size)
          throw new Error(`loadBatch(): index ${idx} outside 0..${this.dataset.size - 1} of dataset ${this.dataset.name}`);
        if (this.bad.has(idx)) {
          ok[k] = false;
          return;
        }
        await this.loadInto(idx, buf, k * n, [batchIndex, firstPosition + k]);
      }),
    );
    for (let k = 0; k < results.length; k++) {
      const r = results[k]!;
      if (r.status === 'fulfilled') continue;
      if (!skip || !(r.reason instanceof DataError)) throw r.reason;
      ok[k] = false;
      this.bad.add(indices[k]!);
      (this.opts.warn ?? defaultWarn)(`skipped: ${(r.reason as DataError).message}`);
    }
    const keep = indices.flatMap((_, k) => (ok[k] ? [k] : []));
    const skipped = indices.filter((_, k) => !ok[k]);
    let images = buf;
    if (keep.length !== indices.length) {
      images = new Float32Array(keep.length * n);
      keep.forEach((k, j) => images.set(buf.subarray(k * n, (k + 1) * n), j * n));
    }
    const kept = keep.map((k) => indices[k]!);
    return {
      images,
      shape: [kept.length, ...this.shape],
      labels: Int32Array.from(kept, (i) => this.dataset.items[i]!.label),
      indices: Int32Array.from(kept),
      batchIndex,
      skipped,
    };
  }

  /** Drops cached images. */
  clearCache(): void {
    this.decoded.clear();
    this.outputs.clear();
  }
}

export interface LoaderState {
  sampler: SamplerState;
  /** Number of the next batch to be yielded. */
  nextBatch: number;
}

export interface BatchLoaderOptions extends ImageLoaderOptions {
  /** Batches loaded ahead of the consumer (default 2; 0 = load on demand). */
  prefetch?: number;
  /** Stop after this many batches (for the infinite samplers); default: until the sampler returns null. */
  maxBatches?: number;
  /** Position of this loader's first item in the global batch (a rank's slice, see RankSliceSampler); default 0. */
  positionOffset?: number;
}

interface Pending {
  batchIndex: number;
  stateAfter: SamplerState;
  promise: Promise<Batch | null>;
}

/**
 * Iterates batches of a sampler over a dataset, prefetching. `getState()` after consuming batch t is the
 * state right after t (batches prefetched but not consumed are not counted), so
 * `new BatchLoader(..).setState(s)` resumes exactly.
 */
export class BatchLoader implements AsyncIterable<Batch> {
  readonly images: ImageLoader;
  private readonly prefetch: number;
  private queue: Pending[] = [];
  private nextToSchedule = 0;
  private consumedState: LoaderState;
  private started = false;
  private closed = false;
  private exhausted = false;

  constructor(
    dataset: ImageDataset,
    readonly sampler: BatchSampler,
    readonly opts: BatchLoaderOptions,
  ) {
    this.images = new ImageLoader(dataset, opts);
    this.prefetch = opts.prefetch ?? 2;
    if (!Number.isInteger(this.prefetch) || this.prefetch < 0) throw new Error(`prefetch must be a non-negative integer, got ${opts.prefetch}`);
    if (opts.maxBatches !== undefined && (!Number.isInteger(opts.maxBatches) || opts.maxBatches < 0))
      throw new Error(`maxBatches must be a non-negative integer, got ${opts.maxBatches}`);
    this.consumedState = { sampler: sampler.getState(), nextBatch: 0 };
  }

  get shape(): [number, number, number] {
    return this.images.shape;
  }

  private schedule(): boolean {
    if (this.exhausted || this.closed) return false;
    if (this.opts.maxBatches !== undefined && this.nextToSchedule >= this.opts.maxBatches) return false;
    const indices = this.sampler.next();
    if (indices === null) {
      this.exhausted = true;
      return false;
    }
    const batchIndex = this.nextToSchedule++;
    const promise = this.images.loadBatch(indices, batchIndex, this.opts.positionOffset ?? 0);
    promise.catch(() => {}); // surfaced when consumed, not as an unhandled rejection
    this.queue.push({ batchIndex, stateAfter: this.sampler.getState(), promise });
    return true;
  }

  /** The next batch, or null at the end. */
  async next(): Promise<Batch | null> {
    this.started = true;
    if (this.queue.length === 0 && !this.schedule()) return null;
    const head = this.queue.shift()!;
    while (this.queue.length < this.prefetch && this.schedule()) {
      /* top up the prefetch queue */
    }
    const batch = await head.promise;
    this.consumedState = { sampler: head.stateAfter, nextBatch: head.batchIndex + 1 };
    return batch;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    for (;;) {
      const b = await this.next();
      if (b === null) return;
      yield b;
    }
  }

  getState(): LoaderState {
    return { sampler: this.consumedState.sampler, nextBatch: this.consumedState.nextBatch };
  }

  /** Restores a state from getState(); only before the first next(). */
  setState(s: LoaderState): void {
    if (this.started) throw new Error('BatchLoader.setState(): call it before the first next()');
    this.sampler.setState(s.sampler);
    this.nextToSchedule = s.nextBatch;
    this.consumedState = { sampler: s.sampler, nextBatch: s.nextBatch };
  }

  /** Stops prefetching; batches already in flight finish but are dropped. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }
}
