// Our module definitions written as ONNX nodes, layer by layer, with the model's current weights (eval mode:
// BatchNorm uses its running statistics, Dropout is the identity). Every built-in model is covered; a module
// of another class is an error naming it.
import type { Tensor } from '../engine/tensor.js';
import {
  type Module,
  Sequential,
  Conv2d,
  BatchNormBase,
  ReLU,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  Flatten,
  Linear,
  Dropout,
  Identity,
} from '../engine/nn/index.js';
import { EmbeddingNet, EmbeddingHead } from '../models/index.js';
import { BasicBlock, SmallResNetBackbone } from '../models/small-resnet.js';
import { Bottleneck, ResNet50Backbone } from '../models/resnet50.js';
import { BNInceptionBackbone, BN_INCEPTION_MODULES } from '../models/bninception.js';
import type { OnnxGraph } from './onnx-graph.js';

function weights(g: OnnxGraph, name: string, t: Tensor): string {
  return g.constant(name, t.toFloat32Array(), t.shape);
}

/** PyTorch's [top, left] padding pair as ONNX pads [top, left, bottom, right]. */
const pads = (p: readonly [number, number]) => [p[0], p[1], p[0], p[1]];

function conv(g: OnnxGraph, name: string, m: Conv2d, x: string): string {
  const inputs = [x, weights(g, `${name}.weight`, m.weight)];
  if (m.bias) inputs.push(weights(g, `${name}.bias`, m.bias));
  return g.node(
    'Conv',
    inputs,
    { kernel_shape: [...m.kernelSize], strides: [...m.stride], pads: pads(m.padding), dilations: [...m.dilation], group: m.groups },
    name,
  );
}

function batchNorm(g: OnnxGraph, name: string, m: BatchNormBase, x: string): string {
  const c = m.numFeatures;
  const scale = m.weight ? weights(g, `${name}.weight`, m.weight) : g.constant(`${name}.weight`, new Float32Array(c).fill(1), [c]);
  const bias = m.bias ? weights(g, `${name}.bias`, m.bias) : g.constant(`${name}.bias`, new Float32Array(c), [c]);
  return g.node(
    'BatchNormalization',
    [x, scale, bias, weights(g, `${name}.running_mean`, m.runningMean), weights(g, `${name}.running_var`, m.runningVar)],
    { epsilon: { float: m.eps } },
    name,
  );
}

function maxPool(
  g: OnnxGraph,
  name: string,
  x: string,
  k: readonly [number, number],
  stride: readonly [number, number],
  padding: readonly [number, number],
  ceil: boolean,
  dilation: readonly [number, number] = [1, 1],
): string {
  return g.node('MaxPool', [x], { kernel_shape: [...k], strides: [...stride], pads: pads(padding), ceil_mode: ceil ? 1 : 0, dilations: [...dilation] }, name);
}

function avgPool(
  g: OnnxGraph,
  name: string,
  x: string,
  k: readonly [number, number],
  stride: readonly [number, number],
  padding: readonly [number, number],
  ceil: boolean,
  countIncludePad: boolean,
): string {
  return g.node(
    'AveragePool',
    [x],
    { kernel_shape: [...k], strides: [...stride], pads: pads(padding), ceil_mode: ceil ? 1 : 0, count_include_pad: countIncludePad ? 1 : 0 },
    name,
  );
}

function linear(g: OnnxGraph, name: string, m: Linear, x: string): string {
  const inputs = [x, weights(g, `${name}.weight`, m.weight)];
  if (m.bias) inputs.push(weights(g, `${name}.bias`, m.bias));
  return g.node('Gemm', inputs, { transB: 1 }, name);
}

function head(g: OnnxGraph, name: string, m: EmbeddingHead, x: string, rank: number): string {
  let pooled = x;
  if (rank === 4) {
    const avg = () => g.node('Flatten', [g.node('GlobalAveragePool', [x], {}, `${name}.avgpool`)], { axis: 1 });
    const max = () => g.node('Flatten', [g.node('GlobalMaxPool', [x], {}, `${name}.maxpool`)], { axis: 1 });
    pooled = m.pooling === 'avg' ? avg() : m.pooling === 'max' ? max() : g.node('Add', [avg(), max()], {}, `${name}.avg_max`);
  }
  return linear(g, `${name}.linear`, m.linear, pooled);
}

function basicBlock(g: OnnxGraph, name: string, m: BasicBlock, x: string): string {
  let y = g.node('Relu', [batchNorm(g, `${name}.bn1`, m.bn1, conv(g, `${name}.conv1`, m.conv1, x))]);
  y = batchNorm(g, `${name}.bn2`, m.bn2, conv(g, `${name}.conv2`, m.conv2, y));
  const idt = m.downsample ? emit(g, `${name}.downsample`, m.downsample, x) : x;
  return g.node('Relu', [g.node('Add', [y, idt])], {}, `${name}.out`);
}

function bottleneck(g: OnnxGraph, name: string, m: Bottleneck, x: string): string {
  let y = g.node('Relu', [batchNorm(g, `${name}.bn1`, m.bn1, conv(g, `${name}.conv1`, m.conv1, x))]);
  y = g.node('Relu', [batchNorm(g, `${name}.bn2`, m.bn2, conv(g, `${name}.conv2`, m.conv2, y))]);
  y = batchNorm(g, `${name}.bn3`, m.bn3, conv(g, `${name}.conv3`, m.conv3, y));
  const idt = m.downsample ? emit(g, `${name}.downsample`, m.downsample, x) : x;
  return g.node('Relu', [g.node('Add', [y, idt])], {}, `${name}.out`);
}

function child<M extends Module>(m: Module, name: string, cls: abstract new (...a: never[]) => M): M {
  const c = m.namedChildren().find(([n]) => n === name)?.[1];
  if (!(c instanceof cls)) throw new Error(`onnx export: ${m.constructor.name} has no ${cls.name} '${name}'`);
  return c;
}

function bnInception(g: OnnxGraph, name: string, m: BNInceptionBackbone, x: string): string {
  const cbr = (layer: string, v: string) =>
    g.node('Relu', [batchNorm(g, `${name}.${layer}_bn`, child(m, `${layer}_bn`, BatchNormBase), conv(g, `${name}.${layer}`, child(m, layer, Conv2d), v))]);
  const pool = (v: string) => maxPool(g, `${name}.pool`, v, [3, 3], [2, 2], [0, 0], true);
  let y = pool(cbr('conv2_3x3', cbr('conv2_3x3_reduce', pool(cbr('conv1_7x7_s2', x)))));
  for (const s of BN_INCEPTION_MODULES) {
    const p = `inception_${s.name}_`;
    const outs: string[] = [];
    if (s.b1x1) outs.push(cbr(`${p}1x1`, y));
    outs.push(cbr(`${p}3x3`, cbr(`${p}3x3_reduce`, y)));
    outs.push(cbr(`${p}double_3x3_2`, cbr(`${p}double_3x3_1`, cbr(`${p}double_3x3_reduce`, y))));
    if (s.b1x1 === 0) outs.push(pool(y));
    else {
      const side =
        s.pool === 'avg'
          ? avgPool(g, `${name}.${p}pool`, y, [3, 3], [1, 1], [1, 1], true, true)
          : maxPool(g, `${name}.${p}pool`, y, [3, 3], [1, 1], [1, 1], true);
      outs.push(cbr(`${p}pool_proj`, side));
    }
    y = g.node('Concat', outs, { axis: 1 }, `${name}.inception_${s.name}`);
  }
  return y;
}

/** Emits module `m` (named `name`) applied to value `x`; returns the output value's name. */
export function emit(g: OnnxGraph, name: string, m: Module, x: string, inputRank = 4): string {
  if (m instanceof EmbeddingNet) {
    const f = emit(g, `${name}backbone`, m.backbone, x, inputRank);
    // The MLP's backbone ends in [N, C]; the CNNs' in a feature map.
    const featureRank = m.backbone instanceof Sequential && [...m.backbone].some((l) => l instanceof Flatten) ? 2 : 4;
    return head(g, `${name}head`, m.head, f, featureRank);
  }
  if (m instanceof Sequential) {
    let v = x;
    [...m].forEach((layer, i) => (v = emit(g, `${name}.${i}`, layer, v)));
    return v;
  }
  if (m instanceof Conv2d) return conv(g, name, m, x);
  if (m instanceof BatchNormBase) return batchNorm(g, name, m, x);
  if (m instanceof ReLU) return g.node('Relu', [x], {}, name);
  if (m instanceof MaxPool2d) return maxPool(g, name, x, m.kernelSize, m.stride, m.padding, m.ceilMode, m.dilation);
  if (m instanceof AvgPool2d) return avgPool(g, name, x, m.kernelSize, m.stride, m.padding, m.ceilMode, m.countIncludePad);
  if (m instanceof AdaptiveAvgPool2d && m.outputSize[0] === 1 && m.outputSize[1] === 1) return g.node('GlobalAveragePool', [x], {}, name);
  if (m instanceof Flatten) {
    if (m.startDim !== 1 || m.endDim !== -1) throw new Error(`onnx export: ${name}: only Flatten(1, -1) is supported`);
    return g.node('Flatten', [x], { axis: 1 }, name);
  }
  if (m instanceof Linear) return linear(g, name, m, x);
  if (m instanceof Dropout || m instanceof Identity) return x;
  if (m instanceof EmbeddingHead) return head(g, name, m, x, inputRank);
  if (m instanceof BasicBlock) return basicBlock(g, name, m, x);
  if (m instanceof Bottleneck) return bottleneck(g, name, m, x);
  if (m instanceof SmallResNetBackbone) {
    let v = g.node('Relu', [batchNorm(g, `${name}.bn1`, m.bn1, conv(g, `${name}.conv1`, m.conv1, x))]);
    m.stages.forEach((s, i) => (v = emit(g, `${name}.layer${i + 1}`, s, v)));
    return v;
  }
  if (m instanceof ResNet50Backbone) {
    let v = g.node('Relu', [batchNorm(g, `${name}.bn1`, m.bn1, conv(g, `${name}.conv1`, m.conv1, x))]);
    v = emit(g, `${name}.maxpool`, m.maxpool, v);
    m.layers.forEach((l, i) => (v = emit(g, `${name}.layer${i + 1}`, l, v)));
    return v;
  }
  if (m instanceof BNInceptionBackbone) return bnInception(g, name, m, x);
  throw new Error(`onnx export: no ONNX form for module ${name || '(root)'} of class ${m.constructor.name}`);
}
