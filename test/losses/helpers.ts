// Helpers for the loss tests: fixture loading, float64 tensors, closeness checks.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor, tensor, int64 } from '../../src/engine/index.js';

/** Reads test/fixtures/losses/<name> from the repository (tests run from dist/). */
export function readFixture<T = unknown>(name: string): T {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'test', 'fixtures', 'losses', name);
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as T;
    dir = dirname(dir);
  }
  throw new Error(`fixture test/fixtures/losses/${name} not found`);
}

export function f64(data: number[] | number[][], shape?: number[]): Tensor {
  const flat = (data as unknown[]).flat(2) as number[];
  const s = shape ?? (Array.isArray(data[0]) ? [data.length, (data[0] as number[]).length] : [data.length]);
  return tensor(Float64Array.from(flat), s, { dtype: 'float64' });
}

export function labels(values: number[]): Tensor {
  return int64(values);
}

/** |a - e| <= atol + rtol |e| elementwise. */
export function assertClose(
  actual: Tensor | number | ArrayLike<number>,
  expected: Tensor | number | ArrayLike<number>,
  msg: string,
  atol = 1e-6,
  rtol = 1e-6,
): void {
  const toArr = (v: Tensor | number | ArrayLike<number>): number[] => (typeof v === 'number' ? [v] : v instanceof Tensor ? v.toArray() : Array.from(v, Number));
  const a = toArr(actual);
  const e = toArr(expected);
  assert.equal(a.length, e.length, `${msg}: length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i]! - e[i]!) <= atol + rtol * Math.abs(e[i]!);
    if (!ok) assert.fail(`${msg}: element ${i}: got ${a[i]}, expected ${e[i]}`);
  }
}

/** Gradient of a scalar-valued fn with respect to fresh leaf copies of the inputs. */
export function gradsOf(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): { value: number; grads: Tensor[] } {
  const leaves = inputs.map((t) => t.detach().clone().requireGrad());
  const out = fn(...leaves);
  out.backward();
  return { value: out.item(), grads: leaves.map((l) => l.grad!) };
}
