// Sequential: runs its children in order; children are named '0', '1', ... as in PyTorch.
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { pipe } from '../scope.js';
import { Conv2d } from './conv.js';
import { BatchNorm2d } from './batchnorm.js';
import { convBatchNorm } from './conv-batchnorm.js';

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

  /** Runs the layers in order; a Conv2d followed by a BatchNorm2d runs as convBatchNorm (folded when it can be). */
  override forward(x: Tensor): Tensor {
    const steps: ((v: Tensor) => Tensor)[] = [];
    for (let i = 0; i < this.layers.length; i++) {
      const m = this.layers[i]!;
      const next = this.layers[i + 1];
      if (m instanceof Conv2d && next instanceof BatchNorm2d) {
        steps.push((v) => convBatchNorm(m, next, v));
        i++;
      } else steps.push((v) => m.forward(v));
    }
    return pipe(x, ...steps);
  }
}
