// A bounded queue of embedding work: `concurrency` jobs at a time, `queue` more waiting, the rest refused
// (503) rather than piling up; a job that waited past the deadline is refused too.
import { HttpError } from './errors.js';

export class WorkQueue {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  get pending(): number {
    return this.active + this.waiting.length;
  }

  async run<T>(job: () => Promise<T>, deadline: number): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting)
        throw new HttpError(503, 'busy', `server busy: ${this.active} images embedding and ${this.waiting.length} waiting; retry later`);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.active++;
    try {
      if (Date.now() > deadline) throw new HttpError(503, 'timeout', 'request waited past its time limit for an embedding slot; retry later');
      return await job();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
