// SmallResNet: a CIFAR-style ResNet for 28-64 px inputs with 1 or 3 channels. Stem conv3x3-BN-ReLU at full
// resolution, one stage of torchvision-style BasicBlocks per width (stride 2 at the start of every stage but
// the first), then EmbeddingHead. Names: backbone.conv1, backbone.bn1, backbone.layer1.0.conv1 / bn1 / conv2 /
// bn2 / downsample.0 / downsample.1, ..., head.linear.weight.
import type { Tensor } from '../engine/tensor.js';
import { pipe } from '../engine/scope.js';
import { Module, Sequential, Conv2d, BatchNorm2d, kaimingNormal, convBatchNorm } from '../engine/nn/index.js';
import { EmbeddingNet } from './embedding-net.js';
import { EmbeddingHead, type Pooling } from './head.js';

function conv(cin: number, cout: number, k: number, stride: number): Conv2d {
  const c = new Conv2d(cin, cout, k, { stride, padding: k === 3 ? 1 : 0, bias: false });
  kaimingNormal(c.weight, { mode: 'fanOut', nonlinearity: 'relu' });
  return c;
}

/** torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU. */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(cin: number, cout: number, stride = 1) {
    super();
    this.conv1 = this.registerModule('conv1', conv(cin, cout, 3, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(cout));
    this.conv2 = this.registerModule('conv2', conv(cout, cout, 3, 1));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(cout));
    this.downsample =
      stride !== 1 || cin !== cout ? this.registerModule('downsample', new Sequential(conv(cin, cout, 1, stride), new BatchNorm2d(cout))) : null;
  }

  override forward(x: Tensor): Tensor {
    const out = pipe(
      x,
      (v) => convBatchNorm(this.conv1, this.bn1, v),
      (v) => v.relu(),
      (v) => convBatchNorm(this.conv2, this.bn2, v),
    );
    const idt = this.downsample ? this.downsample.forward(x) : x;
    const y = pipe(
      out,
      (v) => v.add(idt),
      (v) => v.relu(),
    );
    if (idt !== x) idt.dispose();
    return y;
  }
}

export interface SmallResNetOptions {
  /** Input channels; default 1. */
  inChannels?: number;
  /** Stage widths; default [32, 64, 128]. */
  channels?: number[];
  /** BasicBlocks per stage; default 1. */
  blocksPerStage?: number;
  /** D; default 128. */
  embeddingDim?: number;
  /** Default 'avg'. */
  pooling?: Pooling;
  /** Default false. */
  freezeBatchNorm?: boolean;
}

export class SmallResNetBackbone extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Sequential[] = [];
  readonly outChannels: number;

  constructor(inChannels: number, channels: number[], blocksPerStage: number) {
    super();
    if (channels.length === 0 || !channels.every((c) => Number.isInteger(c) && c > 0))
      throw new Error(`SmallResNet: channels must be positive integers, got ${JSON.stringify(channels)}`);
    if (!Number.isInteger(blocksPerStage) || blocksPerStage < 1)
      throw new Error(`SmallResNet: blocksPerStage must be a positive integer, got ${blocksPerStage}`);
    this.conv1 = this.registerModule('conv1', conv(inChannels, channels[0]!, 3, 1));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(channels[0]!));
    let cin = channels[0]!;
    channels.forEach((w, i) => {
      const blocks: Module[] = [];
      for (let j = 0; j < blocksPerStage; j++) {
        blocks.push(new BasicBlock(cin, w, i > 0 && j === 0 ? 2 : 1));
        cin = w;
      }
      this.stages.push(this.registerModule(`layer${i + 1}`, new Sequential(...blocks)));
    });
    this.outChannels = cin;
  }

  override forward(x: Tensor): Tensor {
    return pipe(
      x,
      (v) => convBatchNorm(this.conv1, this.bn1, v),
      (v) => v.relu(),
      ...this.stages.map((s) => (v: Tensor) => s.forward(v)),
    );
  }
}

export class SmallResNet extends EmbeddingNet<SmallResNetBackbone> {
  constructor(options: SmallResNetOptions = {}) {
    const bb = new SmallResNetBackbone(options.inChannels ?? 1, options.channels ?? [32, 64, 128], options.blocksPerStage ?? 1);
    super(bb, bb.outChannels, new EmbeddingHead(bb.outChannels, options.embeddingDim ?? 128, { pooling: options.pooling }));
    if (options.freezeBatchNorm) this.freezeBatchNorm();
  }
}
