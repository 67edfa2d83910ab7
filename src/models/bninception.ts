// BN-Inception (Ioffe & Szegedy 2015, the Caffe model used throughout DML), with the parameter names of the
// common PyTorch port (Cadene's pretrained-models.pytorch `bninception.py`, also used by the Proxy-NCA,
// Proxy-Anchor and MLRC repos), plus EmbeddingHead.
//
// Name mapping (Caffe layer name = PyTorch module name = ours; `_bn` is the BatchNorm after a conv):
//   stem:   conv1_7x7_s2 (3->64, 7x7/2, pad 3) + conv1_7x7_s2_bn, max pool 3x3/2 (ceil)
//           conv2_3x3_reduce (64->64, 1x1) + _bn, conv2_3x3 (64->192, 3x3, pad 1) + _bn, max pool 3x3/2 (ceil)
//   inception_{3a,3b,4a,4b,4c,4d,5a,5b}: branches concatenated in this order
//           _1x1 | _3x3_reduce -> _3x3 | _double_3x3_reduce -> _double_3x3_1 -> _double_3x3_2 |
//           pool 3x3/1 pad 1 (avg, count_include_pad; max for 5b) -> _pool_proj
//   inception_{3c,4e} (reductions): _3x3_reduce -> _3x3 (stride 2) | _double_3x3_reduce -> _double_3x3_1 ->
//           _double_3x3_2 (stride 2) | max pool 3x3/2 (ceil), no projection
//   every conv has a bias and is followed by its `<name>_bn` (eps 1e-5) and a ReLU (the port's in-place ReLUs
//   make the concatenated outputs the ReLU'd ones). The port's `global_pool` (7x7 avg) and `last_linear`
//   (1024->1000) are replaced by EmbeddingHead; `last_linear.*` in a weight file is ignored.
//   Tensor names: `<module>.weight` / `.bias` for convs; `<module>_bn.{weight, bias, running_mean,
//   running_var, num_batches_tracked}`; under `backbone.` in the BNInception embedding model.
// Output: [B, 1024, H/32, W/32]. 224 or 227 px inputs work, as does any size whose feature map is even before
// inception_3c and inception_4e (e.g. 64, 96, 128); other sizes throw an error naming the module.
//
// Pretrained ImageNet weights (Caffe-converted; input BGR, 0-255, mean [104, 117, 128] subtracted, no std):
//
//   import pretrainedmodels, safetensors.torch   # pip install torch pretrainedmodels safetensors
//   m = pretrainedmodels.bninception(num_classes=1000, pretrained="imagenet")
//   safetensors.torch.save_file({k: v.contiguous() for k, v in m.state_dict().items()}, "bninception.safetensors")
//
// then `loadPretrained(model, 'bninception.safetensors', { mapping: 'bninception-caffe' })`. Files saved from
// other DML repos (Proxy-NCA's bn_inception_weights_pt04.pt, DataParallel 'module.' prefixes, BN tensors
// shaped [1, C]) load through the same mapping. The paper's Keras .h5 needs a custom mapping.
import type { Tensor } from '../engine/tensor.js';
import { pipe } from '../engine/scope.js';
import { cat, maxPool2d, avgPool2d } from '../engine/functional.js';
import { Module, Conv2d, BatchNorm2d, kaimingNormal, convBatchNorm } from '../engine/nn/index.js';
import { EmbeddingNet } from './embedding-net.js';
import { EmbeddingHead, type Pooling } from './head.js';

interface InceptionSpec {
  name: string;
  in: number;
  /** 0 for the stride-2 reduction modules (no 1x1 branch, max-pool branch without projection). */
  b1x1: number;
  r3: number;
  o3: number;
  rd: number;
  od: number;
  pool: 'avg' | 'max';
  proj: number;
}

/** The BN-Inception table (channels of the Caffe prototxt). */
export const BN_INCEPTION_MODULES: readonly InceptionSpec[] = [
  { name: '3a', in: 192, b1x1: 64, r3: 64, o3: 64, rd: 64, od: 96, pool: 'avg', proj: 32 },
  { name: '3b', in: 256, b1x1: 64, r3: 64, o3: 96, rd: 64, od: 96, pool: 'avg', proj: 64 },
  { name: '3c', in: 320, b1x1: 0, r3: 128, o3: 160, rd: 64, od: 96, pool: 'max', proj: 0 },
  { name: '4a', in: 576, b1x1: 224, r3: 64, o3: 96, rd: 96, od: 128, pool: 'avg', proj: 128 },
  { name: '4b', in: 576, b1x1: 192, r3: 96, o3: 128, rd: 96, od: 128, pool: 'avg', proj: 128 },
  { name: '4c', in: 576, b1x1: 160, r3: 128, o3: 160, rd: 128, od: 160, pool: 'avg', proj: 128 },
  { name: '4d', in: 608, b1x1: 96, r3: 128, o3: 192, rd: 160, od: 192, pool: 'avg', proj: 128 },
  { name: '4e', in: 608, b1x1: 0, r3: 128, o3: 192, rd: 192, od: 256, pool: 'max', proj: 0 },
  { name: '5a', in: 1056, b1x1: 352, r3: 192, o3: 320, rd: 160, od: 224, pool: 'avg', proj: 128 },
  { name: '5b', in: 1024, b1x1: 352, r3: 192, o3: 320, rd: 192, od: 224, pool: 'max', proj: 128 },
];

export interface BNInceptionBackboneOptions {
  /** Input channels; default 3. */
  inChannels?: number;
  /** Scales every width; default 1. Below 1 only for tests and tiny experiments. */
  widthMultiplier?: number;
  /** BatchNorm epsilon; default 1e-5 (the PyTorch port). */
  bnEps?: number;
}

export class BNInceptionBackbone extends Module {
  readonly outChannels: number;
  private readonly convs = new Map<string, [Conv2d, BatchNorm2d]>();

  constructor(options: BNInceptionBackboneOptions = {}) {
    super();
    const m = options.widthMultiplier ?? 1;
    const c = (n: number): number => {
      const v = Math.round(n * m);
      if (v < 1) throw new Error(`BNInception: widthMultiplier ${m} gives no channels`);
      return v;
    };
    const eps = options.bnEps ?? 1e-5;
    const add = (name: string, cin: number, cout: number, k: number, stride = 1, padding = 0): void => {
      const conv = this.registerModule(name, new Conv2d(cin, cout, k, { stride, padding, bias: true }));
      kaimingNormal(conv.weight, { mode: 'fanOut', nonlinearity: 'relu' });
      const bn = this.registerModule(`${name}_bn`, new BatchNorm2d(cout, { eps }));
      this.convs.set(name, [conv, bn]);
    };
    add('conv1_7x7_s2', options.inChannels ?? 3, c(64), 7, 2, 3);
    add('conv2_3x3_reduce', c(64), c(64), 1);
    add('conv2_3x3', c(64), c(192), 3, 1, 1);
    for (const s of BN_INCEPTION_MODULES) {
      const p = `inception_${s.name}_`;
      const stride = s.b1x1 === 0 ? 2 : 1;
      if (s.b1x1) add(`${p}1x1`, c(s.in), c(s.b1x1), 1);
      add(`${p}3x3_reduce`, c(s.in), c(s.r3), 1);
      add(`${p}3x3`, c(s.r3), c(s.o3), 3, stride, 1);
      add(`${p}double_3x3_reduce`, c(s.in), c(s.rd), 1);
      add(`${p}double_3x3_1`, c(s.rd), c(s.od), 3, 1, 1);
      add(`${p}double_3x3_2`, c(s.od), c(s.od), 3, stride, 1);
      if (s.proj) add(`${p}pool_proj`, c(s.in), c(s.proj), 1);
    }
    this.outChannels = c(1024);
  }

  /** conv -> BN -> ReLU of the named Caffe layer. */
  private cbr(name: string, x: Tensor): Tensor {
    const [conv, bn] = this.convs.get(name)!;
    return pipe(
      x,
      (v) => convBatchNorm(conv, bn, v),
      (v) => v.relu(),
    );
  }

  override forward(x: Tensor): Tensor {
    // pipe() frees each intermediate once the next layer has used it (autograd keeps what backward needs).
    const cbr = (name: string) => (v: Tensor) => this.cbr(name, v);
    const pool = (v: Tensor) => maxPool2d(v, 3, { stride: 2, ceilMode: true });
    let y = pipe(x, cbr('conv1_7x7_s2'), pool, cbr('conv2_3x3_reduce'), cbr('conv2_3x3'), pool);
    for (const s of BN_INCEPTION_MODULES) {
      const p = `inception_${s.name}_`;
      const outs: Tensor[] = [];
      if (s.b1x1) outs.push(this.cbr(`${p}1x1`, y));
      outs.push(pipe(y, cbr(`${p}3x3_reduce`), cbr(`${p}3x3`)));
      outs.push(pipe(y, cbr(`${p}double_3x3_reduce`), cbr(`${p}double_3x3_1`), cbr(`${p}double_3x3_2`)));
      if (s.b1x1 === 0) {
        outs.push(pool(y));
      } else {
        const side = (v: Tensor) =>
          s.pool === 'avg'
            ? avgPool2d(v, 3, { stride: 1, padding: 1, ceilMode: true, countIncludePad: true })
            : maxPool2d(v, 3, { stride: 1, padding: 1, ceilMode: true });
        outs.push(pipe(y, side, cbr(`${p}pool_proj`)));
      }
      const sizes = outs.map((o) => `${o.shape[2]}x${o.shape[3]}`);
      if (new Set(sizes).size !== 1) {
        throw new Error(
          `BNInception: input ${x.shape[2]}x${x.shape[3]} gives branches of different sizes (${sizes.join(', ')}) in inception_${s.name}; ` +
            `use 224 or 227 px, or a size whose feature map is even before inception_3c and inception_4e (e.g. 64, 96, 128)`,
        );
      }
      const next = cat(outs, 1);
      for (const o of outs) o.dispose();
      if (y !== x) y.dispose();
      y = next;
    }
    return y;
  }
}

export interface BNInceptionOptions extends BNInceptionBackboneOptions {
  /** D; default 128 (the paper's MLRC-style experiments). */
  embeddingDim?: number;
  /** Default 'avg' (spec 4.1: max pooling off in the dml configs). */
  pooling?: Pooling;
  /** Freeze every BatchNorm (inference mode, not trained); default true (spec 4.1). */
  freezeBatchNorm?: boolean;
}

export class BNInception extends EmbeddingNet<BNInceptionBackbone> {
  constructor(options: BNInceptionOptions = {}) {
    const bb = new BNInceptionBackbone(options);
    super(bb, bb.outChannels, new EmbeddingHead(bb.outChannels, options.embeddingDim ?? 128, { pooling: options.pooling ?? 'avg' }));
    if (options.freezeBatchNorm ?? true) this.freezeBatchNorm();
  }
}
