// 2-D pooling layers over [N, C, H, W].
import type { Tensor } from '../tensor.js';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../functional.js';
import { Module } from './module.js';
import { pair, type Pair } from './conv.js';

function check4d(name: string, x: Tensor): void {
  if (x.rank !== 4 && x.rank !== 3) throw new Error(`${name}: expected a [N, C, H, W] or [C, H, W] input, got shape [${x.shape.join(', ')}]`);
}

export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;
  constructor(kernelSize: Pair, options: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = pair(kernelSize, 'MaxPool2d kernelSize');
    this.stride = pair(options.stride ?? kernelSize, 'MaxPool2d stride');
    this.padding = pair(options.padding ?? 0, 'MaxPool2d padding');
    this.dilation = pair(options.dilation ?? 1, 'MaxPool2d dilation');
    this.ceilMode = options.ceilMode ?? false;
  }
  override forward(x: Tensor): Tensor {
    check4d('MaxPool2d', x);
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }
}

export interface AvgPool2dOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  constructor(kernelSize: Pair, options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = pair(kernelSize, 'AvgPool2d kernelSize');
    this.stride = pair(options.stride ?? kernelSize, 'AvgPool2d stride');
    this.padding = pair(options.padding ?? 0, 'AvgPool2d padding');
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
  }
  override forward(x: Tensor): Tensor {
    check4d('AvgPool2d', x);
    return avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad });
  }
}

/** Average pooling to a fixed output size (1 = global average pooling). */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];
  constructor(outputSize: Pair) {
    super();
    this.outputSize = pair(outputSize, 'AdaptiveAvgPool2d outputSize');
  }
  override forward(x: Tensor): Tensor {
    check4d('AdaptiveAvgPool2d', x);
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
