// Conv2d over [N, C, H, W], weight [out, in / groups, kh, kw], PyTorch's default initialisation.
import type { Tensor } from '../tensor.js';
import { zeros } from '../creation.js';
import { conv2d } from '../functional.js';
import { Module } from './module.js';
import { kaimingUniform, uniform_ } from './init.js';

export type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

export function pair(v: Pair, name: string): [number, number] {
  const p: [number, number] = Array.isArray(v) ? [v[0], v[1]] : [v, v];
  if (!p.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`${name} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`);
  return p;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: Conv2dOptions = {}) {
    super();
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) throw new Error(`Conv2d: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0) throw new Error(`Conv2d: inChannels (${inChannels}) must be divisible by groups (${groups})`);
    if (outChannels % groups !== 0) throw new Error(`Conv2d: outChannels (${outChannels}) must be divisible by groups (${groups})`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize, 'Conv2d kernelSize');
    if (this.kernelSize.some((k) => k < 1)) throw new Error(`Conv2d: kernelSize must be >= 1, got ${JSON.stringify(kernelSize)}`);
    this.stride = pair(options.stride ?? 1, 'Conv2d stride');
    this.padding = pair(options.padding ?? 0, 'Conv2d padding');
    this.dilation = pair(options.dilation ?? 1, 'Conv2d dilation');
    this.groups = groups;
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', kaimingUniform(zeros([outChannels, inChannels / groups, kh, kw]), { a: Math.sqrt(5) }));
    const fanIn = (inChannels / groups) * kh * kw;
    const bound = 1 / Math.sqrt(fanIn);
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', uniform_(zeros([outChannels]), -bound, bound)) : null;
  }

  /** Throws unless x is [N, inChannels, H, W]. */
  checkInput(x: Tensor): void {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new Error(`Conv2d(${this.inChannels}, ${this.outChannels}): expected input [N, ${this.inChannels}, H, W], got [${x.shape.join(', ')}]`);
    }
  }

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}
