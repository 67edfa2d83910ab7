// Shared test helpers: deterministic float64 inputs for gradient checks, closeness assertions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor, Tensor } from '../../src/engine/index.js';
import { gradcheck, seededRandom } from '../../src/engine/testing/index.js';

export { gradcheck, GradcheckError, seededRandom } from '../../src/engine/testing/index.js';

let counter = 1;

export interface RandOptions {
  seed?: number;
  low?: number;
  high?: number;
  /** Keep |x| >= this (values stay away from kinks at 0: abs, relu, sign changes). */
  minAbs?: number;
}

/** A float64 tensor of uniform values in [low, high) from a JS generator (torch's seed is untouched). */
export function rand64(shape: number[], o: RandOptions = {}): Tensor {
  const rnd = seededRandom(o.seed ?? counter++ * 7919);
  const low = o.low ?? -1;
  const high = o.high ?? 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = low + (high - low) * rnd();
    if (o.minAbs !== undefined && Math.abs(v) < o.minAbs) v = v < 0 ? -o.minAbs - rnd() * 0.5 : o.minAbs + rnd() * 0.5;
    data[i] = v;
  }
  return tensor(data, shape, { dtype: 'float64' });
}

/**
 * A float64 tensor whose values are pairwise at least `gap` apart (shuffled), so that max / min / sort /
 * pooling have no ties and finite differences never cross a switch point.
 */
export function distinct64(shape: number[], o: { seed?: number; gap?: number; offset?: number } = {}): Tensor {
  const rnd = seededRandom(o.seed ?? counter++ * 104729);
  const n = shape.reduce((a, b) => a * b, 1);
  const gap = o.gap ?? 0.1;
  const vals = Array.from({ length: n }, (_, i) => (o.offset ?? -(n * gap) / 2) + i * gap + rnd() * gap * 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  return tensor(Float64Array.from(vals), shape, { dtype: 'float64' });
}

/** Asserts elementwise |actual - expected| <= atol + rtol*|expected| and equal shapes (when given). */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  o: { atol?: number; rtol?: number; shape?: number[]; msg?: string } = {},
): void {
  const atol = o.atol ?? 1e-6;
  const rtol = o.rtol ?? 1e-5;
  if (actual instanceof Tensor && o.shape) assert.deepEqual(actual.shape, o.shape, `${o.msg ?? ''} shape`);
  if (actual instanceof Tensor && expected instanceof Tensor) assert.deepEqual(actual.shape, expected.shape, `${o.msg ?? ''} shape`);
  const a = actual instanceof Tensor ? actual.toArray() : Array.from(actual, Number);
  const e = expected instanceof Tensor ? expected.toArray() : Array.from(expected, Number);
  assert.equal(a.length, e.length, `${o.msg ?? ''} length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i]! - e[i]!) <= atol + rtol * Math.abs(e[i]!) || (Number.isNaN(a[i]) && Number.isNaN(e[i]));
    if (!ok)
      assert.fail(
        `${o.msg ?? 'assertClose'}: element ${i}: got ${a[i]}, expected ${e[i]} (atol ${atol}, rtol ${rtol})\n  got      [${a.slice(0, 12).join(', ')}]\n  expected [${e.slice(0, 12).join(', ')}]`,
      );
  }
}

/** Asserts fn throws an Error (a real Error instance) whose message matches every pattern. Returns the message. */
export function assertThrowsMessage(fn: () => unknown, ...patterns: (RegExp | string)[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected an error matching ${patterns.join(' & ')}, nothing was thrown`);
  assert.ok(caught instanceof Error, `expected an Error instance, got ${typeof caught}: ${String(caught)}`);
  const msg = (caught as Error).message;
  for (const p of patterns) {
    const ok = typeof p === 'string' ? msg.includes(p) : p.test(msg);
    assert.ok(ok, `error message does not match ${String(p)}:\n  ${msg}`);
  }
  return msg;
}

/** A named gradient-check case: the function and a factory of its float64 inputs. */
export type GradcheckCase = [name: string, fn: (...xs: Tensor[]) => Tensor, inputs: () => Tensor[]];

/** Registers one test per case, each asserting that autograd matches central differences. */
export function gradcheckCases(cases: GradcheckCase[]): void {
  for (const [name, fn, inputs] of cases) {
    test(`grad: ${name}`, () => {
      assert.equal(gradcheck(fn, inputs(), { name }), true);
    });
  }
}
