// `xbm/<loss>` (spec §3.8, XBM: Wang et al. 2020; code `framework/losses/xbm.py`): a FIFO memory of past
// batch embeddings (raw, detached) and labels, used as the reference set of a pair loss.
//
//   forward(x, y) = pairLossWeight * base(x, y)                         (batch vs batch)
//                 + weight * base(x, y, ref = memory)                   (batch vs memory, once started)
//
// Order and timing follow the code:
//  - forward() writes the current batch into the memory FIRST (the code's enqueueDequeue), then computes
//    both terms; so the memory term also sees the current batch itself (detached). Self pairs there are
//    harmless for the losses with a margin (d = 0 <= m+ is inactive) and are what the code does.
//  - `step` counts the batches written so far, the current one included. The memory term is on when
//    step >= startStep. Default startStep = 1000 + memoryBatches (the code's start_at + batches_in_mem:
//    1000 warm-up steps, then one full memory refill).
//  - The memory is a ring over samples of size memorySize (= memoryBatches * batch size when given in
//    batches; the batch size is taken from the first batch). Before it is full only the written slots are
//    used (the code uses zero-filled slots with label 0 then, but the default start step is after the
//    memory has been filled, so the two agree from then on).
//  - `training = false` (evaluation) stops the writes and the step counter; the memory term is still used
//    when it is on.
//  - Use `enqueue(x, y)` to write without computing a loss (e.g. to pre-fill), and `reset()` to empty it.
// State for checkpoints: stateDict() gives the memory tensors and [pointer, filled, step, memorySize].
import { type Tensor, arange, int64, keep, noGrad, zeros } from '../engine/index.js';
import type { MetricLoss, ReferenceSet } from './types.js';
import { checkBatch, checkInteger, checkPositive } from './checks.js';
import { getPreset, xbmPresets, type PresetName } from './presets.js';

export interface XBMOptions {
  /** Memory size in batches (M). Give this or memorySize. */
  memoryBatches?: number;
  /** Memory size in samples. */
  memorySize?: number;
  /**
   * First step (1-based count of written batches) that uses the memory term. Default 1000 + M, where M is
   * memoryBatches, or ceil(memorySize / first batch size) when the size is given in samples.
   */
  startStep?: number;
  /** Weight of the memory term (default 1). */
  weight?: number;
  /** Weight of the batch-vs-batch term (default 1). */
  pairLossWeight?: number;
}

export class XBM implements MetricLoss {
  readonly name: string;
  readonly acceptsReference = false;
  readonly base: MetricLoss;
  readonly weight: number;
  readonly pairLossWeight: number;
  readonly memoryBatches: number | undefined;
  private explicitStart: number | undefined;
  private size: number | undefined;
  private memEmb: Tensor | undefined;
  private memLab: Tensor | undefined;
  private ptr = 0;
  private filledCount = 0;
  private stepCount = 0;
  /** When false, forward() neither writes the memory nor advances the step. */
  training = true;

  constructor(base: MetricLoss, options: XBMOptions = {}) {
    if (!base || typeof base.forward !== 'function') throw new Error('xbm: the first argument must be a MetricLoss');
    if (base.acceptsReference === false || base.parameters().length > 0) {
      throw new Error(`xbm: base loss '${base.name}' does not compare with a reference set (proxy / classifier loss); XBM needs a pair loss`);
    }
    this.base = base;
    this.name = `xbm/${base.name}`;
    if ((options.memoryBatches === undefined) === (options.memorySize === undefined)) {
      throw new Error('xbm: give exactly one of memoryBatches and memorySize');
    }
    this.memoryBatches = options.memoryBatches === undefined ? undefined : checkInteger('xbm', 'memoryBatches', options.memoryBatches);
    if (options.memorySize !== undefined) this.size = checkInteger('xbm', 'memorySize', options.memorySize);
    this.explicitStart = options.startStep === undefined ? undefined : checkInteger('xbm', 'startStep', options.startStep, 0);
    this.weight = checkPositive('xbm', 'weight', options.weight ?? 1, true);
    this.pairLossWeight = checkPositive('xbm', 'pairLossWeight', options.pairLossWeight ?? 1, true);
  }

  /** XBM with the dataset's memory size (cub/cars 3, inshop 400, sop 1400 batches; code 128). */
  static preset(name: PresetName, base: MetricLoss, overrides: XBMOptions = {}): XBM {
    const p = getPreset(xbmPresets, 'xbm', name);
    const o = overrides.memorySize !== undefined ? { ...overrides } : { ...p, ...overrides };
    return new XBM(base, o);
  }

  /** Number of batches written so far. */
  get step(): number {
    return this.stepCount;
  }
  /** Samples currently held. */
  get filled(): number {
    return this.filledCount;
  }
  /** Next slot to write. */
  get pointer(): number {
    return this.ptr;
  }
  /** Memory size in samples (undefined until the first batch when given in batches). */
  get memorySize(): number | undefined {
    return this.size;
  }
  /** The step from which the memory term is on (undefined until the batch size is known). */
  get startStep(): number | undefined {
    if (this.explicitStart !== undefined) return this.explicitStart;
    if (this.memoryBatches !== undefined) return 1000 + this.memoryBatches;
    if (this.size !== undefined && this.batchSize !== undefined) return 1000 + Math.ceil(this.size / this.batchSize);
    return undefined;
  }
  private batchSize: number | undefined;

  /** true when the memory term is used by forward(). */
  get active(): boolean {
    const s = this.startStep;
    return s !== undefined && this.stepCount >= s && this.filledCount > 0;
  }

  /** The memory as a reference set (the written slots only), or null when empty. */
  memory(): ReferenceSet | null {
    if (!this.memEmb || !this.memLab || this.filledCount === 0) return null;
    if (this.filledCount === this.size) return { embeddings: this.memEmb, labels: this.memLab };
    return { embeddings: this.memEmb.narrow(0, 0, this.filledCount), labels: this.memLab.narrow(0, 0, this.filledCount) };
  }

  /** Writes a batch (detached) at the pointer, FIFO over samples, and counts one step. */
  enqueue(embeddings: Tensor, labels: Tensor): void {
    const y = checkBatch(this.name, embeddings, labels);
    const B = embeddings.size(0);
    if (B === 0) return;
    this.batchSize ??= B;
    if (this.size === undefined) this.size = this.memoryBatches! * B;
    const size = this.size;
    if (!this.memEmb || !this.memLab) {
      this.memEmb = keep(zeros([size, embeddings.size(1)], { dtype: embeddings.dtype, device: embeddings.device }));
      this.memLab = keep(zeros([size], { dtype: 'int64', device: embeddings.device }));
    } else if (this.memEmb.size(1) !== embeddings.size(1)) {
      throw new Error(`${this.name}: embedding size ${embeddings.size(1)} differs from the memory's ${this.memEmb.size(1)}`);
    }
    noGrad(() => {
      // A batch larger than the memory keeps only its last `size` rows.
      const start = Math.max(0, B - size);
      const e = embeddings
        .detach()
        .narrow(0, start, B - start)
        .to(this.memEmb!.dtype);
      const l = y.narrow(0, start, B - start).to('int64');
      const n = B - start;
      const idx = arange(this.ptr, this.ptr + n, 1, { device: e.device }).remainder(size);
      this.memEmb!.indexCopy_(0, idx, e);
      this.memLab!.indexCopy_(0, idx, l);
      this.ptr = (this.ptr + n) % size;
      this.filledCount = Math.min(size, this.filledCount + n);
    });
    this.stepCount++;
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    if (this.training) this.enqueue(embeddings, labels);
    const inBatch = this.base.forward(embeddings, labels);
    let loss = this.pairLossWeight === 1 ? inBatch : inBatch.mul(this.pairLossWeight);
    if (this.active && this.weight > 0) {
      const mem = this.memory()!;
      loss = loss.add(this.base.forward(embeddings, labels, mem).mul(this.weight));
    }
    return loss;
  }

  parameters(): Tensor[] {
    return [];
  }

  /** Empties the memory and the step counter. */
  reset(): void {
    this.memEmb?.dispose();
    this.memLab?.dispose();
    this.memEmb = undefined;
    this.memLab = undefined;
    this.ptr = 0;
    this.filledCount = 0;
    this.stepCount = 0;
    if (this.memoryBatches !== undefined) this.size = undefined;
    this.batchSize = undefined;
  }

  /**
   * 'xbm.embeddings' [S, D], 'xbm.labels' [S] int64, 'xbm.meta' int64 [pointer, filled, step, size, batchSize];
   * {} before the first write.
   */
  stateDict(): Record<string, Tensor> {
    if (!this.memEmb || !this.memLab) return {};
    return {
      'xbm.embeddings': this.memEmb,
      'xbm.labels': this.memLab,
      'xbm.meta': int64([this.ptr, this.filledCount, this.stepCount, this.size!, this.batchSize ?? 0]),
    };
  }

  loadStateDict(state: Record<string, Tensor>): void {
    const e = state['xbm.embeddings'];
    const l = state['xbm.labels'];
    const m = state['xbm.meta'];
    if (!e && !l && !m) {
      this.reset();
      return;
    }
    if (!e || !l || !m) throw new Error(`${this.name}: loadStateDict needs 'xbm.embeddings', 'xbm.labels' and 'xbm.meta'`);
    const meta = m.toArray();
    if (meta.length !== 5) throw new Error(`${this.name}: 'xbm.meta' must hold 5 values [pointer, filled, step, size, batchSize], got ${meta.length}`);
    const [ptr, filled, step, size, batchSize] = meta as [number, number, number, number, number];
    if (e.rank !== 2 || e.size(0) !== size || l.numel !== size) {
      throw new Error(`${this.name}: memory shapes [${e.shape.join(', ')}] / [${l.shape.join(', ')}] do not match size ${size}`);
    }
    if (this.memoryBatches === undefined && this.size !== undefined && this.size !== size) {
      throw new Error(`${this.name}: checkpoint memory size ${size} differs from memorySize ${this.size}`);
    }
    this.memEmb?.dispose();
    this.memLab?.dispose();
    this.memEmb = keep(noGrad(() => e.detach().clone()));
    this.memLab = keep(noGrad(() => l.reshape([size]).to('int64').clone()));
    this.ptr = ptr;
    this.filledCount = filled;
    this.stepCount = step;
    this.size = size;
    this.batchSize = batchSize > 0 ? batchSize : undefined;
  }
}
