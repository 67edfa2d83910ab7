// Helpers for the tests against the real pytorch-metric-learning: fixture loading (test/fixtures/pml, made
// by scripts/fixtures/pml_reference.py) and a record of the largest deviations per loss / miner / metric,
// printed as a table at the end of each file (the README's PML table comes from it).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../src/engine/index.js';

export function readPmlFixture<T = unknown>(name: string): T {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'test', 'fixtures', 'pml', name);
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as T;
    dir = dirname(dir);
  }
  throw new Error(`fixture test/fixtures/pml/${name} not found`);
}

function toArr(v: Tensor | number | ArrayLike<number>): number[] {
  return typeof v === 'number' ? [v] : v instanceof Tensor ? v.toArray() : Array.from(v, Number);
}

/** Largest |actual - expected| per group, across the cases of a file. */
export class Deviations {
  private rows = new Map<string, { cases: number; value: number; grad: number }>();

  count(group: string): void {
    const r = this.row(group);
    r.cases++;
  }

  private row(group: string): { cases: number; value: number; grad: number } {
    let r = this.rows.get(group);
    if (!r) {
      r = { cases: 0, value: 0, grad: 0 };
      this.rows.set(group, r);
    }
    return r;
  }

  /** Asserts |a - e| <= atol + rtol |e| elementwise and records the largest absolute deviation. */
  check(
    group: string,
    kind: 'value' | 'grad',
    actual: Tensor | number | ArrayLike<number>,
    expected: Tensor | number | ArrayLike<number>,
    msg: string,
    atol = 1e-9,
    rtol = 1e-9,
  ): void {
    const a = toArr(actual);
    const e = toArr(expected);
    assert.equal(a.length, e.length, `${msg}: length ${a.length} vs ${e.length}`);
    const r = this.row(group);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - e[i]!);
      if (!(d <= atol + rtol * Math.abs(e[i]!))) assert.fail(`${msg}: element ${i}: got ${a[i]}, PML ${e[i]}`);
      r[kind] = Math.max(r[kind], d);
    }
  }

  table(title: string): string {
    const lines = [`${title}: name | PML cases | max |value dev| | max |grad dev|`];
    for (const [k, r] of [...this.rows].sort()) lines.push(`${k} | ${r.cases} | ${r.value.toExponential(1)} | ${r.grad.toExponential(1)}`);
    return lines.join('\n');
  }
}
