// A group of ranks running the same program (data parallelism): c10d's ProcessGroupGloo on CPU, NCCL on CUDA
// builds. Collectives block the JS thread until done or until the timeout (this first version); any failure
// (timeout, a peer that died, mismatched shapes) is a DistributedError and leaves the group unusable, as in
// torch.distributed, because a half-finished collective has no safe continuation.
import { native, type NativeTensor } from '../native/binding.js';
import { Tensor } from '../engine/tensor.js';
import { cat } from '../engine/functional.js';
import { int64, zeros } from '../engine/creation.js';
import { tidy, keep } from '../engine/scope.js';
import { noGrad } from '../engine/autograd.js';
import { moveTo } from '../engine/move.js';
import { DistributedError, nativeMessage } from './errors.js';
import { readLaunchEnv } from './launch-env.js';
import { Store, type RendezvousOptions } from './rendezvous.js';
import { registerPeer, diagnosePeers } from './peer-diagnosis.js';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min' | 'product';

/** torch.distributed's default collective timeout (30 minutes). */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  rendezvous: RendezvousOptions;
  /** Default 'gloo' (CPU). 'nccl' needs an addon built against a CUDA libtorch. */
  backend?: Backend;
  /** Bounds the rendezvous and every collective; default 30 minutes. */
  timeoutMs?: number;
}

export interface FromEnvOptions {
  backend?: Backend;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** An all-reduce started by ProcessGroup.allReduceStart. */
export interface PendingAllReduce {
  /** Blocks until the all-reduce finished (or its timeout passed) and returns the reduced tensor. */
  wait(): Tensor;
}

/** Gradient buckets all-reduced from autograd hooks as backward produces them (ProcessGroup.hookGradientBuckets). */
export interface HookedGradientBuckets {
  /**
   * After backward: starts the buckets still waiting (a gradient backward did not produce counts as zeros,
   * flag 0), waits for all and returns each bucket's averaged buffer (values in plan order, then one presence
   * flag per parameter), and how many buckets had started during backward.
   */
  finish(): { buffers: Tensor[]; startedDuringBackward: number };
  /** Removes the hooks; later backward passes start no collectives. */
  detach(): void;
}

/** How long a failing rank waits for the others to answer its roll call (see peer-diagnosis.ts). */
const PEER_WINDOW_MS = 5000;

/** The longest tensor rank allGather handles with different first dimensions per rank. */
const MAX_GATHER_DIMS = 8;

export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: Backend;
  readonly timeoutMs: number;
  /** The rank on this machine (LOCAL_RANK), for picking a GPU or splitting threads. */
  readonly localRank: number;
  readonly store: Store;
  private handle: object | null;
  private failure: string | null = null;

  private constructor(store: Store, handle: object, o: { rank: number; worldSize: number; backend: Backend; timeoutMs: number; localRank: number }) {
    this.store = store;
    this.handle = handle;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.backend = o.backend;
    this.timeoutMs = o.timeoutMs;
    this.localRank = o.localRank;
  }

  /** The backends this build of the addon has ('gloo' on every build with the Gloo headers). */
  static availableBackends(): Backend[] {
    return native.distBackends() as Backend[];
  }

  /** Joins the group: blocks until all worldSize ranks arrived, or throws after timeoutMs. */
  static create(o: ProcessGroupOptions, localRank = o.rank): ProcessGroup {
    const backend = o.backend ?? 'gloo';
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1) throw new DistributedError(`worldSize must be an integer >= 1, got ${o.worldSize}`, 'create');
    if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize) {
      throw new DistributedError(`rank must be an integer in 0..${o.worldSize - 1}, got ${o.rank}`, 'create');
    }
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new DistributedError(`timeoutMs must be an integer >= 1, got ${timeoutMs}`, 'create');
    const store = Store.open(o.rendezvous, o.rank, o.worldSize, timeoutMs);
    // Before the group: once it exists, every rank's entry does (a failure diagnosis reads them all).
    registerPeer(store, o.rank);
    let handle: object;
    try {
      handle = native.distProcessGroup(store.handle, backend, o.rank, o.worldSize, timeoutMs) as object;
    } catch (err) {
      throw new DistributedError(
        `joining the ${backend} process group via ${store.description} failed on rank ${o.rank} of ${o.worldSize}: ${nativeMessage(err)}` +
          ` (timeout ${timeoutMs} ms; did all ${o.worldSize} ranks start?)`,
        'create',
        o.rank,
        { cause: err },
      );
    }
    return new ProcessGroup(store, handle, { rank: o.rank, worldSize: o.worldSize, backend, timeoutMs, localRank });
  }

  /** Joins the group described by the torchrun variables (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK). */
  static fromEnv(o: FromEnvOptions = {}): ProcessGroup {
    const e = readLaunchEnv(o.env ?? process.env);
    return ProcessGroup.create(
      { rank: e.rank, worldSize: e.worldSize, backend: o.backend, timeoutMs: o.timeoutMs, rendezvous: { kind: 'tcp', host: e.masterAddr, port: e.masterPort } },
      e.localRank,
    );
  }

  get isDestroyed(): boolean {
    return this.handle === null;
  }

  /** Reduces `t` over all ranks in place ('avg' = sum / worldSize) and returns it. */
  allReduce(t: Tensor, op: ReduceOp = 'sum'): Tensor {
    this.checkAvg(t, op);
    if (t.numel === 0) return t; // nothing to reduce (and Gloo crashes on empty tensors); the same on every rank
    return this.inPlace(t, (x) => this.collective('allReduce', () => native.distAllReduce(this.live('allReduce'), x.native, op, this.timeoutMs)));
  }

  /**
   * Starts an in-place all-reduce of `t` on Gloo's threads and returns at once, so this thread can go on (the
   * next gradient bucket's backward) while it runs. `wait()` finishes it and returns `t`; until then `t` must
   * be neither read nor written. Collectives are matched by the order they start, the same on every rank.
   */
  allReduceStart(t: Tensor, op: ReduceOp = 'sum'): PendingAllReduce {
    this.checkAvg(t, op);
    const staging = this.stagingDevice(t);
    const x = staging ? t.toDevice(staging) : t;
    const work = this.collective('allReduce', () => native.distAllReduceStart(this.live('allReduce'), x.native, op, this.timeoutMs) as object);
    let done = false;
    return {
      wait: () => {
        if (!done) {
          done = true;
          this.collective('allReduce', () => native.distWorkWait(work));
          if (x !== t) {
            copyBack(t, x);
            x.dispose();
          }
        }
        return t;
      },
    };
  }

  /**
   * Hooks the gradient accumulator of every parameter: during each backward, a bucket (`plan[b]` = parameter
   * indices, one dtype) whose gradients have all arrived is all-reduced at once, in plan order, while backward
   * goes on. Every rank must use the same plan and call finish() once after each backward.
   */
  hookGradientBuckets(params: readonly Tensor[], plan: readonly (readonly number[])[]): HookedGradientBuckets {
    const handle = this.collective('allReduce', () =>
      native.distGradBucketsAttach(
        this.live('allReduce'),
        params.map((p) => p.native),
        plan.map((b) => [...b]),
        this.timeoutMs,
      ),
    );
    return {
      finish: () => {
        const r = this.collective('allReduce', () => native.distGradBucketsFinish(handle));
        return { buffers: r.buffers.map((h) => Tensor.wrap(h)), startedDuringBackward: r.startedDuringBackward };
      },
      detach: () => native.distGradBucketsDetach(handle),
    };
  }

  /** Copies rank `root`'s values into `t` on every rank (in place) and returns it. */
  broadcast(t: Tensor, root = 0): Tensor {
    if (t.numel === 0) return t;
    return this.inPlace(t, (x) => this.collective('broadcast', () => native.distBroadcast(this.live('broadcast'), x.native, root, this.timeoutMs)));
  }

  /**
   * Every rank's `t`, in rank order. The first dimension may differ between ranks (a last, smaller batch); the
   * other dimensions and the dtype must agree, otherwise every rank gets an error naming the shapes.
   * `rows`: every rank's first dimension when the caller knows them already (e.g. from gathering the labels of
   * the same rows), which saves the small collective that gathers the shapes; the rest must agree by
   * construction then, as it is not checked.
   */
  allGather(t: Tensor, rows?: readonly number[]): Tensor[] {
    if (rows && (rows.length !== this.worldSize || rows[this.rank] !== (t.shape[0] ?? 1))) {
      throw new DistributedError(
        `allGather: rows [${rows}] must give ${this.worldSize} ranks' first dimensions, this rank's being ${t.shape[0] ?? 1}`,
        'allGather',
        this.rank,
      );
    }
    const shapes = rows ? rows.map((n) => [n, ...t.shape.slice(1)]) : this.gatherShapes(t);
    const first = shapes[0]!;
    for (let r = 1; r < shapes.length; r++) {
      const s = shapes[r]!;
      if (s.length !== first.length || s.slice(1).some((d, i) => d !== first[i + 1])) {
        throw new DistributedError(`allGather: shapes differ beyond the first dimension: rank 0 has [${first}], rank ${r} has [${s}]`, 'allGather', this.rank);
      }
    }
    const sizes = shapes.map((s) => s[0] ?? 1);
    const max = Math.max(...sizes);
    // Gloo divides by the element count (SIGFPE on empty tensors): every rank empty needs no transfer.
    if (t.rank > 0 && max === 0) return shapes.map(() => t.detach().clone());
    if (t.rank === 0 || sizes.every((n) => n === max)) return this.gatherSameShape(t);
    // Gloo gathers equal shapes: pad to the longest, gather, cut each rank's rows back out.
    return tidy(() => {
      const padShape = t.shape;
      padShape[0] = max - t.size(0);
      const padded = padShape[0] > 0 ? cat([t.detach(), zeros(padShape, { dtype: t.dtype, device: t.device })], 0) : t.detach();
      return this.gatherSameShape(padded).map((g, r) => keep(g.narrow(0, 0, sizes[r]!)));
    });
  }

  /** allGather concatenated along the first dimension (the global batch, in rank order). */
  allGatherCat(t: Tensor, rows?: readonly number[]): Tensor {
    return tidy(() => cat(this.allGather(t, rows), 0));
  }

  /** Returns once every rank called barrier. */
  barrier(): void {
    this.collective('barrier', () => native.distBarrier(this.live('barrier'), this.timeoutMs));
  }

  /** Leaves the group and releases its connections; further calls throw. Safe to call twice. */
  destroy(): void {
    if (this.handle === null) return;
    const h = this.handle;
    this.handle = null;
    native.distDestroy(h);
  }

  private gatherSameShape(t: Tensor): Tensor[] {
    const staging = this.stagingDevice(t);
    const x = staging ? t.toDevice(staging) : t;
    try {
      const list = this.collective('allGather', () => native.distAllGather(this.live('allGather'), x.native, this.timeoutMs) as NativeTensor[]);
      if (!staging) return list.map((h) => Tensor.wrap(h));
      return list.map((h) => moveTo(Tensor.wrap(h), t.device));
    } finally {
      if (x !== t) x.dispose();
    }
  }

  /**
   * NCCL reduces GPU tensors only: a CPU tensor (a config hash, gathered shapes, metrics, CPU embeddings) goes
   * through this rank's GPU and back, as torch.distributed's object collectives do. Null: `t` is used as is.
   */
  private stagingDevice(t: Tensor): string | null {
    return this.backend === 'nccl' && !t.device.startsWith('cuda') ? `cuda:${this.localRank}` : null;
  }

  /** Runs an in-place collective on `t` (staged through the GPU under NCCL when `t` is on the CPU); returns `t`. */
  private inPlace(t: Tensor, run: (x: Tensor) => void): Tensor {
    const staging = this.stagingDevice(t);
    if (!staging) {
      run(t);
      return t;
    }
    const x = t.toDevice(staging);
    try {
      run(x);
      copyBack(t, x);
    } finally {
      x.dispose();
    }
    return t;
  }

  /** Every rank's shape (and a dtype check), gathered in one small int64 collective. */
  private gatherShapes(t: Tensor): number[][] {
    if (t.rank > MAX_GATHER_DIMS)
      throw new DistributedError(`allGather: tensors of more than ${MAX_GATHER_DIMS} dimensions are not supported (got ${t.rank})`, 'allGather', this.rank);
    const code = DTYPE_CODES.indexOf(t.dtype);
    const header = [t.rank, code, ...t.shape];
    while (header.length < MAX_GATHER_DIMS + 2) header.push(0);
    return tidy(() => {
      const gathered = this.gatherSameShape(int64(header));
      return gathered.map((g, r) => {
        const v = Array.from(g.dataSync() as BigInt64Array, Number);
        if (v[1] !== code) {
          throw new DistributedError(
            `allGather: dtypes differ: rank ${this.rank} has ${t.dtype}, rank ${r} has ${DTYPE_CODES[v[1]!] ?? 'unknown'}`,
            'allGather',
            this.rank,
          );
        }
        return v.slice(2, 2 + v[0]!);
      });
    });
  }

  private checkAvg(t: Tensor, op: ReduceOp): void {
    if (op === 'avg' && !t.dtype.startsWith('float') && t.dtype !== 'bfloat16') {
      throw new DistributedError(`allReduce: op 'avg' needs a floating-point tensor, got ${t.dtype}`, 'allReduce', this.rank);
    }
  }

  private live(op: string): object {
    if (this.handle === null) throw new DistributedError(`${op}: the process group was destroyed`, op, this.rank);
    if (this.failure) throw new DistributedError(`${op}: the process group is unusable after an earlier failure: ${this.failure}`, op, this.rank);
    return this.handle;
  }

  private collective<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DistributedError) throw err;
      const text = nativeMessage(err);
      if (err instanceof TypeError) throw new DistributedError(`${op} on rank ${this.rank}: ${text}`, op, this.rank, { cause: err });
      const timedOut = /timed? ?out|timeout/i.test(text);
      const peers = diagnosePeers(this.store, this.rank, this.worldSize, Math.min(this.timeoutMs, PEER_WINDOW_MS));
      this.failure = `${op} on rank ${this.rank} of ${this.worldSize} ${timedOut ? 'timed out' : 'failed'}: ${text} (timeout ${this.timeoutMs} ms)`;
      throw new DistributedError(
        this.failure + (timedOut ? '; a rank did not reach this collective in time (stopped, slower, or running different code)' : '') + `; ${peers}`,
        op,
        this.rank,
        { cause: err },
      );
    }
  }
}

/** t ← staged values (data only: t may be a tensor that requires grad). */
function copyBack(t: Tensor, staged: Tensor): void {
  noGrad(() => t.copy_(staged));
}

const DTYPE_CODES: string[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
