// ONNX export of an embedding model with its input normalisation and its embedding normalisation:
//   input  "pixels"    float32 [batch, C, H, W]: the test-time resized and centre-cropped image, values 0-255,
//                      RGB channel order (or one grey channel), batch size free
//   output "embedding" float32 [batch, D]: what `embed` writes (N(v)-normalised unless the run says otherwise)
// Resizing and cropping stay outside the graph (they depend on the original image size); the model's
// metadata_props say how: size, resizeTo, channels (key "ccp-dml.preprocessing", JSON).
import { resolveNormalization, outputShape, type TransformOptions } from '../data/index.js';
import type { EmbeddingNet } from '../models/index.js';
import type { NormalizationMode } from '../evaluation/index.js';
import { OnnxGraph } from './onnx-graph.js';
import { emit } from './onnx-modules.js';

export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = 'embedding';

export interface OnnxExportOptions {
  transform: TransformOptions;
  /** Embedding normalisation (the run's evaluation.normalization). */
  normalization: NormalizationMode;
  /** Extra metadata_props (model hash, run). */
  metadata?: Record<string, string>;
}

/** Test-time preprocessing a user of the ONNX file must do before feeding "pixels". */
export function preprocessingOf(t: TransformOptions): { size: [number, number]; channels: 1 | 3; resizeTo: number; layout: string } {
  const [c, h, w] = outputShape(t);
  return { size: [h, w], channels: c as 1 | 3, resizeTo: t.resizeTo ?? Math.round((Math.min(h, w) * 256) / 227), layout: 'NCHW float32, 0-255, RGB (or grey)' };
}

export function exportOnnx(model: EmbeddingNet, o: OnnxExportOptions): Uint8Array {
  const [c, h, w] = outputShape(o.transform);
  const g = new OnnxGraph();
  model.eval();
  // Pixel normalisation: value = x * mul - sub per input (RGB) channel, then BGR order when asked.
  const { mul, sub, bgr } = resolveNormalization(o.transform.normalize, c as 1 | 3);
  let x = g.node('Mul', [ONNX_INPUT, g.constant('pixel_scale', mul, [1, c, 1, 1])], {}, 'scaled');
  x = g.node('Sub', [x, g.constant('pixel_offset', sub, [1, c, 1, 1])], {}, 'normalized');
  if (bgr) x = g.node('Gather', [x, g.int64Constant('bgr_order', [2, 1, 0], [3])], { axis: 1 }, 'bgr');
  let e = emit(g, '', model, x);
  if (o.normalization !== 'none') {
    const norm = g.node('ReduceL2', [e], { axes: [1], keepdims: 1 }, 'norm');
    const floor = g.constant(o.normalization === 'lipschitz' ? 'norm_floor_1' : 'norm_floor_eps', [o.normalization === 'lipschitz' ? 1 : 1e-12], [1]);
    e = g.node('Div', [e, g.node('Max', [norm, floor], {}, 'divisor')], {}, 'normalized_embedding');
  }
  return g.encode({
    input: { name: ONNX_INPUT, dims: [c, h, w] },
    output: { name: ONNX_OUTPUT, value: e, dims: [model.embeddingDim] },
    metadata: { 'ccp-dml.preprocessing': JSON.stringify(preprocessingOf(o.transform)), 'ccp-dml.normalization': o.normalization, ...o.metadata },
    docString: `ccp-dml embedding model: ${ONNX_INPUT} [batch, ${c}, ${h}, ${w}] (0-255) -> ${ONNX_OUTPUT} [batch, ${model.embeddingDim}]`,
  });
}
