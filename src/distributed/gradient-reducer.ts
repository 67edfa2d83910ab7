// Gradient averaging for data parallelism, as DDP's Reducer does it: the parameters are grouped into buckets of
// about 25 MB, the first one 1 MB (in reverse order, the order backward produces their gradients), each bucket's
// gradients are flattened into one buffer and all-reduced as one collective.
//
// Overlap with backward (default, as DDP): the binding hooks every parameter's gradient accumulator, and a
// bucket whose gradients backward has all produced is all-reduced on Gloo's threads right away, while backward
// computes the layers below (the buckets follow the reverse parameter order, the order backward produces
// gradients in); reduce() then only waits. `overlap: false` is the fallback: after backward, every bucket is
// flattened and started before the first is waited for (buckets overlap each other, not backward). Both paths
// reduce the same buffers, so they give the same gradients bit for bit. With overlap, call backward once per
// reduce() and leave the gradients alone between the two.
//
// A parameter without a gradient on some rank (a proxy of a class absent from its batch, say) counts as zeros
// there; one that has no gradient on any rank keeps none, as in a single process, so optimisers that skip
// gradient-less parameters still skip it. Each bucket carries one presence flag per parameter for that.
import { cat } from '../engine/functional.js';
import { tensor, zeros } from '../engine/creation.js';
import { tidy } from '../engine/scope.js';
import { noGrad } from '../engine/autograd.js';
import type { Tensor } from '../engine/tensor.js';
import type { DType } from '../engine/dtype.js';
import { DistributedError } from './errors.js';
import type { ProcessGroup, PendingAllReduce, HookedGradientBuckets } from './process-group.js';
import { checkSameParameters } from './parameter-layout.js';

/** DDP's default bucket cap (bucket_cap_mb=25). */
export const DEFAULT_BUCKET_BYTES = 25 * 2 ** 20;
/**
 * DDP's cap of the first bucket (_DEFAULT_FIRST_BUCKET_BYTES): the last parameters (the first gradients backward
 * produces, e.g. a loss's proxies and the embedding head) are all-reduced while backward computes the rest.
 */
export const DEFAULT_FIRST_BUCKET_BYTES = 2 ** 20;

export interface GradientReducerOptions {
  /** Bucket size cap in bytes; a parameter larger than the cap gets a bucket of its own. */
  bucketBytes?: number;
  /** Cap of the first bucket of each dtype (default 1 MiB, DDP's; at most bucketBytes). */
  firstBucketBytes?: number;
  /** Check at construction that every rank has the same parameter shapes and dtypes (one small all-gather). */
  checkParameters?: boolean;
  /** All-reduce buckets during backward from autograd hooks (default true); false: all after backward. */
  overlap?: boolean;
}

export interface Bucket {
  dtype: DType;
  /** Indices into the parameter list, in the order they are laid out in the flat buffer. */
  params: number[];
  /** Gradient values in the bucket (without the presence flags). */
  numel: number;
  bytes: number;
}

const BYTES: Partial<Record<DType, number>> = { float64: 8, float32: 4, float16: 2, bfloat16: 2 };

/** Groups parameters (reverse order, split by dtype) into buckets of at most `cap` bytes (`firstCap` for a dtype's first). */
export function planBuckets(params: readonly Tensor[], cap: number, firstCap = cap): Bucket[] {
  const open = new Map<DType, Bucket>();
  const done: Bucket[] = [];
  const closed = new Set<DType>();
  for (let i = params.length - 1; i >= 0; i--) {
    const p = params[i]!;
    const size = BYTES[p.dtype];
    if (size === undefined)
      throw new DistributedError(`gradient reducer: parameter ${i} has dtype ${p.dtype}; only floating-point parameters have gradients`, 'reduce');
    const bytes = p.numel * size;
    let b = open.get(p.dtype);
    if (b && b.bytes + bytes > (closed.has(p.dtype) ? cap : firstCap) && b.params.length > 0) {
      done.push(b);
      closed.add(p.dtype);
      b = undefined;
    }
    if (!b) {
      b = { dtype: p.dtype, params: [], numel: 0, bytes: 0 };
      open.set(p.dtype, b);
    }
    b.params.push(i);
    b.numel += p.numel;
    b.bytes += bytes;
  }
  done.push(...open.values());
  return done;
}

export class GradientReducer {
  readonly buckets: readonly Bucket[];
  /** Buckets whose all-reduce started during the last backward (overlap); 0 without overlap. */
  startedDuringBackward = 0;
  private hooks: HookedGradientBuckets | null = null;

  constructor(
    readonly group: ProcessGroup,
    readonly params: readonly Tensor[],
    options: GradientReducerOptions = {},
  ) {
    const cap = options.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    if (!(cap > 0)) throw new DistributedError(`gradient reducer: bucketBytes must be > 0, got ${cap}`, 'reduce', group.rank);
    if (options.checkParameters ?? true) checkSameParameters(group, params);
    const first = Math.min(cap, options.firstBucketBytes ?? DEFAULT_FIRST_BUCKET_BYTES);
    if (!(first > 0)) throw new DistributedError(`gradient reducer: firstBucketBytes must be > 0, got ${first}`, 'reduce', group.rank);
    this.buckets = planBuckets(params, cap, first);
    const overlap = options.overlap ?? true;
    if (overlap && group.worldSize > 1)
      this.hooks = group.hookGradientBuckets(
        params,
        this.buckets.map((b) => b.params),
      );
  }

  get overlapsBackward(): boolean {
    return this.hooks !== null;
  }

  /** Replaces every parameter's gradient by its average over the ranks (in place of the old gradient tensor). */
  reduce(): void {
    if (this.group.worldSize === 1) return;
    noGrad(() =>
      tidy(() => {
        if (this.hooks) {
          const r = this.hooks.finish();
          this.startedDuringBackward = r.startedDuringBackward;
          r.buffers.forEach((flat, k) => this.unpack(this.buckets[k]!, flat));
          return;
        }
        const pending = this.buckets.map((b) => ({ b, work: this.start(b) }));
        for (const { b, work } of pending) this.unpack(b, work.wait());
      }),
    );
  }

  /** Removes the backward hooks (overlap); reduce() must not be called afterwards. Safe to call twice. */
  dispose(): void {
    this.hooks?.detach();
    this.hooks = null;
  }

  private start(b: Bucket): PendingAllReduce {
    const parts: Tensor[] = [];
    const present: number[] = [];
    for (const i of b.params) {
      const p = this.params[i]!;
      const g = p.grad;
      parts.push(g ? g.reshape([-1]) : zeros([p.numel], { dtype: b.dtype, device: p.device }));
      present.push(g ? 1 : 0);
    }
    parts.push(tensor(present, [present.length], { dtype: b.dtype, device: this.params[b.params[0]!]!.device }));
    return this.group.allReduceStart(cat(parts, 0), 'avg');
  }

  private unpack(b: Bucket, flat: Tensor): void {
    const flags = flat.narrow(0, b.numel, b.params.length).toFloat64Array();
    let offset = 0;
    b.params.forEach((i, k) => {
      const p = this.params[i]!;
      // Views of the reduced buffer (DDP's gradient_as_bucket_view): no copy; the buffer lives as long as they do.
      if (flags[k]! > 0) p.grad = flat.narrow(0, offset, p.numel).reshape(p.shape);
      offset += p.numel;
    });
  }
}
