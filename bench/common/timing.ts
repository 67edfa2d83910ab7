// Timing helpers for benchmarks: high-resolution clocks, medians, and a loop that yields to the event loop
// between iterations (Node-API finalizers run there; a long synchronous loop holds freed tensors' shells).
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Runs fn `iters` times (after `warmup` untimed runs) and returns each iteration's wall time in ms. */
export async function timeIterations(fn: () => void, iters: number, warmup = 0): Promise<number[]> {
  for (let i = 0; i < warmup; i++) {
    fn();
    await tick();
  }
  const out: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = nowMs();
    fn();
    out.push(nowMs() - t0);
    await tick();
  }
  return out;
}

/**
 * One round of an interleaved comparison: `a` then `b` in even rounds, `b` then `a` in odd ones, so that
 * neither side always follows the other's cache / allocator state.
 */
export async function alternate(round: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<void> {
  if (round % 2 === 0) {
    await a();
    await b();
  } else {
    await b();
    await a();
  }
}
