// Batch samplers: seeded, deterministic given the seed, with JSON state for exact resume.
//   MPerClassSampler   spec 4.3: rounds over all classes in shuffled order, m samples per class per group.
//   OnePerClassSampler spec 2.4: one sample of every class, class order 0..C-1 (CCP candidate pools).
//   RandomSampler      shuffled epochs.
//   SequentialSampler  0..N-1 in order, finite (evaluation).
import { ImageDataset } from './dataset.js';
import { Rng, type RngState } from './random.js';

export interface BatchSampler {
  /** Next batch of dataset indices; null when a finite sampler is exhausted (the infinite ones never are). */
  next(): number[] | null;
  /** Plain-JSON state; `setState(getState())` on a fresh sampler over the same data continues identically. */
  getState(): SamplerState;
  setState(state: SamplerState): void;
}

export type SamplerState =
  | { kind: 'mperclass'; rng: RngState; queues: number[][]; roundOrder: number[]; roundPos: number; rounds: number }
  | { kind: 'onePerClass'; rng: RngState; queues: number[][]; span: number[]; spanPos: number; spans: number }
  | { kind: 'random'; rng: RngState; perm: number[]; pos: number; epoch: number }
  | { kind: 'sequential'; pos: number };

type LabelSource = ImageDataset | ArrayLike<number>;

function groupByClass(src: LabelSource): number[][] {
  const labels = src instanceof ImageDataset ? src.labels() : src;
  let C = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0) throw new Error(`sampler: label ${l} at index ${i} is not a non-negative integer`);
    C = Math.max(C, l + 1);
  }
  if (src instanceof ImageDataset) C = Math.max(C, src.numClasses);
  const by: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < labels.length; i++) by[labels[i]!]!.push(i);
  return by;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${v}`);
}

/**
 * Per-class shuffled queues drawn without replacement; a queue is reshuffled when it runs out. The end of
 * each array is the next sample (pop). When a refill happens in the middle of a group, samples already in
 * that group are moved to the back of the new queue so a group repeats a sample only if the class has
 * fewer samples than the group size.
 */
class ClassQueues {
  queues: number[][];
  constructor(
    private readonly members: number[][],
    private readonly rng: Rng,
  ) {
    this.queues = members.map(() => []);
  }

  draw(c: number, count: number): number[] {
    const out: number[] = [];
    const q = this.queues;
    while (out.length < count) {
      if (q[c]!.length === 0) {
        const fresh = this.rng.shuffle([...this.members[c]!]);
        if (out.length > 0 && fresh.length > out.length) {
          const taken = new Set(out);
          const later = fresh.filter((x) => taken.has(x));
          const first = fresh.filter((x) => !taken.has(x));
          q[c] = [...later, ...first]; // popped from the end: `first` comes out first
        } else q[c] = fresh;
      }
      out.push(q[c]!.pop()!);
    }
    return out;
  }

  validate(state: number[][]): void {
    if (!Array.isArray(state) || state.length !== this.members.length)
      throw new Error(`sampler state: expected ${this.members.length} class queues, got ${Array.isArray(state) ? state.length : typeof state}`);
    state.forEach((qu, c) => {
      const ok = new Set(this.members[c]);
      for (const x of qu)
        if (!ok.has(x)) throw new Error(`sampler state: queue of class ${c} holds index ${x}, which is not in that class (different dataset?)`);
    });
  }
}

export interface MPerClassOptions {
  /** Samples per class in a group (default 4). */
  m?: number;
  /** Groups (classes) per batch (default 8); batch size = m * classesPerBatch. */
  classesPerBatch?: number;
  seed?: number;
}

/**
 * Spec 4.3. Rounds: each round visits every (non-empty) class once, in a freshly shuffled class order, as
 * one group of m samples drawn from the class's reshuffled queue. Groups of consecutive rounds form one
 * stream; a batch takes the next `classesPerBatch` groups (so a batch crossing a round boundary can hold a
 * class twice) and is ordered [c1s1, c2s1, ..., cPs1, c1s2, ...]. Infinite.
 */
export class MPerClassSampler implements BatchSampler {
  readonly m: number;
  readonly classesPerBatch: number;
  readonly batchSize: number;
  private readonly members: number[][];
  private readonly classes: number[];
  private readonly rng: Rng;
  private readonly q: ClassQueues;
  private roundOrder: number[] = [];
  private roundPos = 0;
  /** Rounds started so far. */
  rounds = 0;

  constructor(labels: LabelSource, opts: MPerClassOptions = {}) {
    this.m = opts.m ?? 4;
    this.classesPerBatch = opts.classesPerBatch ?? 8;
    checkInt('MPerClassSampler m', this.m, 1);
    checkInt('MPerClassSampler classesPerBatch', this.classesPerBatch, 1);
    this.batchSize = this.m * this.classesPerBatch;
    this.members = groupByClass(labels);
    this.classes = this.members.flatMap((mem, c) => (mem.length > 0 ? [c] : []));
    if (this.classes.length === 0) throw new Error('MPerClassSampler: no samples');
    this.rng = new Rng(opts.seed ?? 0);
    this.q = new ClassQueues(this.members, this.rng);
  }

  get numClasses(): number {
    return this.classes.length;
  }
  /** ceil(mean class size / m): rounds in one sampler epoch (spec 4.3). */
  get roundsPerEpoch(): number {
    const total = this.members.reduce((a, mem) => a + mem.length, 0);
    return Math.ceil(total / this.classes.length / this.m);
  }
  /** Batches that one sampler epoch's groups fill: floor(roundsPerEpoch * C / classesPerBatch), at least 1. */
  get batchesPerEpoch(): number {
    return Math.max(1, Math.floor((this.roundsPerEpoch * this.classes.length) / this.classesPerBatch));
  }

  /** The next group: [class, its m sample indices]. */
  nextGroup(): [number, number[]] {
    if (this.roundPos >= this.roundOrder.length) {
      this.roundOrder = this.rng.shuffle([...this.classes]);
      this.roundPos = 0;
      this.rounds++;
    }
    const c = this.roundOrder[this.roundPos++]!;
    return [c, this.q.draw(c, this.m)];
  }

  next(): number[] {
    const groups: number[][] = [];
    for (let g = 0; g < this.classesPerBatch; g++) groups.push(this.nextGroup()[1]);
    const batch: number[] = [];
    for (let s = 0; s < this.m; s++) for (const g of groups) batch.push(g[s]!);
    return batch;
  }

  getState(): SamplerState {
    return {
      kind: 'mperclass',
      rng: this.rng.getState(),
      queues: this.q.queues.map((x) => [...x]),
      roundOrder: [...this.roundOrder],
      roundPos: this.roundPos,
      rounds: this.rounds,
    };
  }

  setState(s: SamplerState): void {
    if (s.kind !== 'mperclass') throw new Error(`MPerClassSampler.setState(): state of kind '${s.kind}'`);
    this.q.validate(s.queues);
    const known = new Set(this.classes);
    for (const c of s.roundOrder) if (!known.has(c)) throw new Error(`MPerClassSampler.setState(): class ${c} in roundOrder is unknown`);
    this.rng.setState(s.rng);
    this.q.queues = s.queues.map((x) => [...x]);
    this.roundOrder = [...s.roundOrder];
    this.roundPos = s.roundPos;
    this.rounds = s.rounds;
  }
}

export interface OnePerClassOptions {
  /** Batch size for `next()` (default 128, `proxy_sampling_batch_size`). */
  batchSize?: number;
  seed?: number;
}

/**
 * Spec 2.4. `span()` gives one sample of every class in class order 0..C-1, each drawn without replacement
 * from the class's shuffled queue (reshuffled when exhausted), so consecutive spans give different samples
 * until a class runs out. `next()` cuts spans into batches of `batchSize` (ceil(C / batchSize) batches per
 * span, the last one shorter); batches never cross span boundaries. Every class must be non-empty.
 */
export class OnePerClassSampler implements BatchSampler {
  readonly batchSize: number;
  readonly numClasses: number;
  private readonly rng: Rng;
  private readonly q: ClassQueues;
  private current: number[] = [];
  private pos = 0;
  /** Spans drawn so far. */
  spans = 0;

  constructor(labels: LabelSource, opts: OnePerClassOptions = {}) {
    this.batchSize = opts.batchSize ?? 128;
    checkInt('OnePerClassSampler batchSize', this.batchSize, 1);
    const members = groupByClass(labels);
    const empty = members.findIndex((m) => m.length === 0);
    if (empty >= 0) {
      const name = labels instanceof ImageDataset ? ` '${labels.classNames[empty]}'` : '';
      throw new Error(`OnePerClassSampler: class ${empty}${name} has no samples`);
    }
    if (members.length === 0) throw new Error('OnePerClassSampler: no samples');
    this.numClasses = members.length;
    this.rng = new Rng(opts.seed ?? 0);
    this.q = new ClassQueues(members, this.rng);
  }

  /** Batches per span: ceil(C / batchSize). */
  get batchesPerSpan(): number {
    return Math.ceil(this.numClasses / this.batchSize);
  }

  /** One index per class, index c of the result belongs to class c. */
  span(): number[] {
    const out = new Array<number>(this.numClasses);
    for (let c = 0; c < this.numClasses; c++) out[c] = this.q.draw(c, 1)[0]!;
    this.spans++;
    return out;
  }

  next(): number[] {
    if (this.pos >= this.current.length) {
      this.current = this.span();
      this.pos = 0;
    }
    const b = this.current.slice(this.pos, this.pos + this.batchSize);
    this.pos += b.length;
    return b;
  }

  getState(): SamplerState {
    return {
      kind: 'onePerClass',
      rng: this.rng.getState(),
      queues: this.q.queues.map((x) => [...x]),
      span: [...this.current],
      spanPos: this.pos,
      spans: this.spans,
    };
  }

  setState(s: SamplerState): void {
    if (s.kind !== 'onePerClass') throw new Error(`OnePerClassSampler.setState(): state of kind '${s.kind}'`);
    this.q.validate(s.queues);
    this.rng.setState(s.rng);
    this.q.queues = s.queues.map((x) => [...x]);
    this.current = [...s.span];
    this.pos = s.spanPos;
    this.spans = s.spans;
  }
}

export interface RandomSamplerOptions {
  batchSize: number;
  seed?: number;
  /** Drop the short last batch of each epoch (default false). */
  dropLast?: boolean;
}

/** Shuffled epochs over 0..n-1; batches do not cross epoch boundaries. Infinite. */
export class RandomSampler implements BatchSampler {
  readonly batchSize: number;
  readonly dropLast: boolean;
  private readonly rng: Rng;
  private perm: number[] = [];
  private pos = 0;
  epoch = 0;

  constructor(
    readonly n: number,
    opts: RandomSamplerOptions,
  ) {
    checkInt('RandomSampler n', n, 1);
    checkInt('RandomSampler batchSize', opts.batchSize, 1);
    if (opts.dropLast && opts.batchSize > n) throw new Error(`RandomSampler: batchSize ${opts.batchSize} > n ${n} with dropLast gives no batches`);
    this.batchSize = opts.batchSize;
    this.dropLast = opts.dropLast ?? false;
    this.rng = new Rng(opts.seed ?? 0);
  }

  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.n / this.batchSize) : Math.ceil(this.n / this.batchSize);
  }

  next(): number[] {
    const remaining = this.perm.length - this.pos;
    if (remaining === 0 || (this.dropLast && remaining < this.batchSize)) {
      this.perm = this.rng.shuffle(Array.from({ length: this.n }, (_, i) => i));
      this.pos = 0;
      this.epoch++;
    }
    const b = this.perm.slice(this.pos, this.pos + this.batchSize);
    this.pos += b.length;
    return b;
  }

  getState(): SamplerState {
    return { kind: 'random', rng: this.rng.getState(), perm: [...this.perm], pos: this.pos, epoch: this.epoch };
  }

  setState(s: SamplerState): void {
    if (s.kind !== 'random') throw new Error(`RandomSampler.setState(): state of kind '${s.kind}'`);
    if (s.perm.length !== 0 && s.perm.length !== this.n)
      throw new Error(`RandomSampler.setState(): permutation of ${s.perm.length}, sampler has n = ${this.n}`);
    this.rng.setState(s.rng);
    this.perm = [...s.perm];
    this.pos = s.pos;
    this.epoch = s.epoch;
  }
}

/** 0..n-1 in order, in batches of batchSize; finite (returns null at the end). */
export class SequentialSampler implements BatchSampler {
  private pos = 0;
  constructor(
    readonly n: number,
    readonly batchSize: number,
  ) {
    checkInt('SequentialSampler n', n, 0);
    checkInt('SequentialSampler batchSize', batchSize, 1);
  }
  get batches(): number {
    return Math.ceil(this.n / this.batchSize);
  }
  next(): number[] | null {
    if (this.pos >= this.n) return null;
    const end = Math.min(this.n, this.pos + this.batchSize);
    const b = Array.from({ length: end - this.pos }, (_, i) => this.pos + i);
    this.pos = end;
    return b;
  }
  getState(): SamplerState {
    return { kind: 'sequential', pos: this.pos };
  }
  setState(s: SamplerState): void {
    if (s.kind !== 'sequential') throw new Error(`SequentialSampler.setState(): state of kind '${s.kind}'`);
    this.pos = s.pos;
  }
}
