// Sequential: runs its children in order; children are named '0', '1', ... as in PyTorch.
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { pipe } from '../scope.js';

export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end (named by its index). Returns this. */
  append(m: Module): this {
    if (!(m instanceof Module)) throw new Error(`Sequential.append: expected a Module at index ${this.layers.length}, got ${String(m)}`);
    this.registerModule(String(this.layers.length), m);
    this.layers.push(m);
    return this;
  }

  get length(): number {
    return this.layers.length;
  }

  /** The i-th module (negative counts from the end). */
  at(i: number): Module {
    const m = this.layers.at(i);
    if (!m) throw new RangeError(`Sequential.at(${i}): there are ${this.layers.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  override forward(x: Tensor): Tensor {
    return pipe(x, ...this.layers.map((m) => (v: Tensor) => m.forward(v)));
  }
}
