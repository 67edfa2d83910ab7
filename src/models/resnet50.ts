// ResNet-50 with torchvision's layout and parameter names (torchvision.models.resnet50, "v1.5": the stride
// sits on the Bottleneck's 3x3 conv), without avgpool / fc, plus EmbeddingHead.
//
// Backbone names (exactly torchvision's state_dict keys minus fc.*): conv1.weight, bn1.{weight, bias,
// running_mean, running_var, num_batches_tracked}, layer1.0.conv1.weight, layer1.0.bn1.*, ..., layer1.0.conv3,
// layer1.0.bn3, layer1.0.downsample.0.weight (1x1 conv), layer1.0.downsample.1.* (BN), ..., layer4.2.bn3.*.
// In ResNet50 (the embedding model) they sit under `backbone.`; the head is `head.linear.weight`.
//
// Pretrained ImageNet weights: export torchvision's to safetensors, then
// `loadPretrained(model, 'resnet50.safetensors', { mapping: 'torchvision' })`:
//
//   import torchvision, safetensors.torch   # pip install torch torchvision safetensors
//   m = torchvision.models.resnet50(weights="IMAGENET1K_V1")   # or IMAGENET1K_V2
//   safetensors.torch.save_file({k: v.contiguous() for k, v in m.state_dict().items()}, "resnet50.safetensors")
//
// torchvision's weights expect RGB in [0, 1] normalised with mean [0.485, 0.456, 0.406] and std
// [0.229, 0.224, 0.225]. (The paper's Keras ResNet50 is a Caffe-style model with other weights and names; use a
// custom mapping for it.)
import type { Tensor } from '../engine/tensor.js';
import { pipe } from '../engine/scope.js';
import { Module, Sequential, Conv2d, BatchNorm2d, MaxPool2d, kaimingNormal, convBatchNorm } from '../engine/nn/index.js';
import { EmbeddingNet } from './embedding-net.js';
import { EmbeddingHead, type Pooling } from './head.js';

function conv(cin: number, cout: number, k: number, stride = 1, padding = 0): Conv2d {
  const c = new Conv2d(cin, cout, k, { stride, padding, bias: false });
  kaimingNormal(c.weight, { mode: 'fanOut', nonlinearity: 'relu' });
  return c;
}

/** torchvision's Bottleneck: 1x1 -> 3x3 (stride) -> 1x1 (x4 channels), BN after each, shortcut, ReLU. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.registerModule('conv1', conv(inplanes, planes, 1));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv(planes, planes, 3, stride, 1));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', conv(planes, out, 1));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    this.downsample =
      stride !== 1 || inplanes !== out ? this.registerModule('downsample', new Sequential(conv(inplanes, out, 1, stride), new BatchNorm2d(out))) : null;
  }

  override forward(x: Tensor): Tensor {
    const y = pipe(
      x,
      (v) => convBatchNorm(this.conv1, this.bn1, v),
      (v) => v.relu(),
      (v) => convBatchNorm(this.conv2, this.bn2, v),
      (v) => v.relu(),
      (v) => convBatchNorm(this.conv3, this.bn3, v),
    );
    const idt = this.downsample ? this.downsample.forward(x) : x;
    const out = pipe(
      y,
      (v) => v.add(idt),
      (v) => v.relu(),
    );
    if (idt !== x) idt.dispose();
    return out;
  }
}

export interface ResNet50BackboneOptions {
  /** Input channels; default 3. */
  inChannels?: number;
  /** Scales every width (base 64 -> round(64 * m)); default 1. Below 1 only for tests and tiny experiments. */
  widthMultiplier?: number;
  /** Bottlenecks per stage; default [3, 4, 6, 3] (ResNet-50). [3, 4, 23, 3] gives ResNet-101's layout. */
  layers?: [number, number, number, number];
}

/** conv1-bn1-relu-maxpool, layer1..layer4; output [B, 2048, H/32, W/32]. */
export class ResNet50Backbone extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layers: Sequential[] = [];
  readonly outChannels: number;

  constructor(options: ResNet50BackboneOptions = {}) {
    super();
    const m = options.widthMultiplier ?? 1;
    const base = Math.round(64 * m);
    if (!(base >= 1)) throw new Error(`ResNet50: widthMultiplier ${m} gives no channels`);
    const counts = options.layers ?? [3, 4, 6, 3];
    if (counts.length !== 4 || !counts.every((c) => Number.isInteger(c) && c >= 1))
      throw new Error(`ResNet50: layers must be 4 positive integers, got ${JSON.stringify(counts)}`);
    this.conv1 = this.registerModule('conv1', conv(options.inChannels ?? 3, base, 7, 2, 3));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(base));
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
    let inplanes = base;
    counts.forEach((n, i) => {
      const planes = base * 2 ** i;
      const blocks: Module[] = [];
      for (let j = 0; j < n; j++) {
        blocks.push(new Bottleneck(inplanes, planes, j === 0 && i > 0 ? 2 : 1));
        inplanes = planes * Bottleneck.expansion;
      }
      this.layers.push(this.registerModule(`layer${i + 1}`, new Sequential(...blocks)));
    });
    this.outChannels = inplanes;
  }

  override forward(x: Tensor): Tensor {
    return pipe(
      x,
      (v) => convBatchNorm(this.conv1, this.bn1, v),
      (v) => v.relu(),
      (v) => this.maxpool.forward(v),
      ...this.layers.map((l) => (v: Tensor) => l.forward(v)),
    );
  }
}

export interface ResNet50Options extends ResNet50BackboneOptions {
  /** D; default 512 (the conventional configs). The MLRC-style experiments use 128. */
  embeddingDim?: number;
  /** Default 'avg+max' (spec 4.1, conventional configs). */
  pooling?: Pooling;
  /** Freeze every BatchNorm (inference mode, not trained); default true (spec 4.1). */
  freezeBatchNorm?: boolean;
}

export class ResNet50 extends EmbeddingNet<ResNet50Backbone> {
  constructor(options: ResNet50Options = {}) {
    const bb = new ResNet50Backbone(options);
    super(bb, bb.outChannels, new EmbeddingHead(bb.outChannels, options.embeddingDim ?? 512, { pooling: options.pooling ?? 'avg+max' }));
    if (options.freezeBatchNorm ?? true) this.freezeBatchNorm();
  }
}
