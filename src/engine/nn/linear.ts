// Linear: y = x W^T + b, weight [out, in], PyTorch's default initialisation.
import type { Tensor } from '../tensor.js';
import { zeros } from '../creation.js';
import { linear } from '../functional.js';
import { Module } from './module.js';
import { kaimingUniform, uniform_ } from './init.js';

export interface LinearOptions {
  bias?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    if (!Number.isInteger(inFeatures) || inFeatures < 1) throw new Error(`Linear: inFeatures must be a positive integer, got ${inFeatures}`);
    if (!Number.isInteger(outFeatures) || outFeatures < 1) throw new Error(`Linear: outFeatures must be a positive integer, got ${outFeatures}`);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    // kaiming_uniform(a = sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch.nn.Linear.reset_parameters.
    this.weight = this.registerParameter('weight', kaimingUniform(zeros([outFeatures, inFeatures]), { a: Math.sqrt(5) }));
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', uniform_(zeros([outFeatures]), -bound, bound)) : null;
  }

  override forward(x: Tensor): Tensor {
    const last = x.shape[x.rank - 1];
    if (last !== this.inFeatures)
      throw new Error(`Linear(${this.inFeatures}, ${this.outFeatures}): input's last dimension is ${last}, shape [${x.shape.join(', ')}]`);
    return linear(x, this.weight, this.bias);
  }
}
