// Loading pretrained (or reference) weights from a safetensors file into a model, through a name mapping.
//
// Where the weights come from:
//   - ResNet-50: torchvision's ImageNet weights exported with the 3-line snippet in resnet50.ts,
//     mapping 'torchvision' (file `conv1.weight` -> model `backbone.conv1.weight`; `fc.*` ignored).
//   - BN-Inception: Cadene's Caffe port exported with the snippet in bninception.ts, mapping
//     'bninception-caffe' (file `conv1_7x7_s2.weight` -> `backbone.conv1_7x7_s2.weight`; `last_linear.*` /
//     `fc.*` ignored; 'module.' prefixes stripped; BN tensors shaped [1, C] accepted for [C]).
//   - Anything else: mapping 'identity' (file names are the model's own, e.g. a file written from
//     model.stateDict()) or a function from file name to model name (null skips the tensor).
//
// Checks: every shape mismatch is an error (always). With `strict` (default), model tensors inside the mapping's
// scope that the file does not provide, and file tensors that map to no model tensor, are errors too; all
// errors list the file, the tensor names and the expected / actual shapes. Ignored names (fc.*, ...) give a note.
import type { Tensor } from '../engine/tensor.js';
import { noGrad } from '../engine/autograd.js';
import { tidy } from '../engine/scope.js';
import type { Module } from '../engine/nn/index.js';
import { loadSafetensors } from '../engine/serialization/index.js';

/** Maps a tensor name in the file to the model's name, or null to skip it. */
export type NameMapping = (fileName: string) => string | null;

export type BuiltinMapping = 'identity' | 'torchvision' | 'bninception-caffe';

export interface LoadPretrainedOptions {
  /** Default 'identity'. */
  mapping?: BuiltinMapping | NameMapping;
  /** Missing or unexpected tensors are errors (shape mismatches always are). Default true. */
  strict?: boolean;
  /**
   * Only model tensors whose name starts with this prefix are expected in the file. Default 'backbone.' for
   * 'torchvision' and 'bninception-caffe' (the head is new), '' (the whole model) otherwise. The two built-in
   * mappings put file names under 'backbone.' when the model has a backbone child (an EmbeddingNet) and
   * leave them as they are for a bare ResNet50Backbone / BNInceptionBackbone. With 'identity', a file whose
   * names all start with 'backbone.' (a pretrained backbone without a head) fills the backbone only: scope
   * 'backbone.', the head keeps its fresh initialisation.
   */
  scope?: string;
  /** Receives the notes (ignored tensors, non-strict omissions). Default console.warn. */
  log?: (line: string) => void;
}

export interface LoadPretrainedReport {
  /** Model names that were filled. */
  loaded: string[];
  /** Model names in scope that the file did not provide (only possible with strict: false). */
  missing: string[];
  /** File names whose mapped name is not in the model (only possible with strict: false). */
  unexpected: string[];
  /** File names the mapping skipped (fc.*, last_linear.*, num_batches_tracked the model lacks). */
  ignored: string[];
  notes: string[];
}

interface ResolvedMapping {
  rename: NameMapping;
  scope: string;
  /** Accept a source whose shape differs only by size-1 dimensions (same element count). */
  squeeze: boolean;
  label: string;
}

function stripModule(name: string): string {
  return name.startsWith('module.') ? name.slice('module.'.length) : name;
}

/** prefix: where the backbone sits in the model ('backbone.' in an EmbeddingNet, '' for a bare backbone). */
function resolveMapping(m: LoadPretrainedOptions['mapping'], prefix: string): ResolvedMapping {
  if (typeof m === 'function') return { rename: m, scope: '', squeeze: false, label: 'custom mapping' };
  switch (m ?? 'identity') {
    case 'identity':
      return { rename: (n) => n, scope: '', squeeze: false, label: "mapping 'identity'" };
    case 'torchvision':
      return {
        rename: (n) => {
          const s = stripModule(n);
          return s.startsWith('fc.') ? null : `${prefix}${s}`;
        },
        scope: prefix,
        squeeze: false,
        label: "mapping 'torchvision'",
      };
    case 'bninception-caffe':
      return {
        rename: (n) => {
          const s = stripModule(n);
          return s.startsWith('last_linear.') || s.startsWith('fc.') ? null : `${prefix}${s}`;
        },
        scope: prefix,
        squeeze: true,
        label: "mapping 'bninception-caffe'",
      };
    default:
      throw new Error(`loadPretrained: unknown mapping '${String(m)}' (use 'identity', 'torchvision', 'bninception-caffe' or a function)`);
  }
}

function fmt(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameIgnoringOnes(a: number[], b: number[]): boolean {
  const x = a.filter((d) => d !== 1);
  const y = b.filter((d) => d !== 1);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/**
 * Copies the tensors of a safetensors file into `model` (parameters and buffers, in place, converted to the
 * model's dtype), following `options.mapping`. Throws, naming the file and the tensors, on any shape mismatch
 * and (strict) on missing or unexpected tensors; nothing is copied when it throws.
 */
export function loadPretrained(model: Module, path: string, options: LoadPretrainedOptions = {}): LoadPretrainedReport {
  const own = model.stateDict();
  const map = resolveMapping(options.mapping, [...own.keys()].some((k) => k.startsWith('backbone.')) ? 'backbone.' : '');
  const strict = options.strict ?? true;
  const log = options.log ?? ((line: string) => console.warn(line));
  const file = loadSafetensors(path);
  const backboneOnly = file.size > 0 && [...file.keys()].every((k) => k.startsWith('backbone.'));
  const scope = options.scope ?? (options.mapping === undefined || options.mapping === 'identity' ? (backboneOnly ? 'backbone.' : '') : map.scope);
  try {
    const plan: [Tensor, Tensor, string][] = [];
    const ignored: string[] = [];
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    const dtypeMismatched: string[] = [];
    const provided = new Set<string>();
    const notes: string[] = [];
    for (const [fileName, src] of file) {
      const target = map.rename(fileName);
      if (target === null) {
        ignored.push(fileName);
        continue;
      }
      const dst = own.get(target);
      if (!dst) {
        if (target.endsWith('num_batches_tracked')) ignored.push(fileName);
        else unexpected.push(target === fileName ? fileName : `${fileName} (-> ${target})`);
        continue;
      }
      if (provided.has(target)) throw new Error(`loadPretrained: ${path}: two tensors map to '${target}' (${map.label})`);
      provided.add(target);
      const ds = dst.shape;
      const ss = src.shape;
      const equal = ds.length === ss.length && ds.every((d, i) => d === ss[i]);
      if (!equal && !(map.squeeze && sameIgnoringOnes(ds, ss) && src.numel === dst.numel)) {
        mismatched.push(`${target}${target === fileName ? '' : ` (file: ${fileName})`}: model ${fmt(ds)}, file ${fmt(ss)}`);
        continue;
      }
      if ((src.dtype === 'bool') !== (dst.dtype === 'bool')) {
        dtypeMismatched.push(
          `${target}${target === fileName ? '' : ` (file: ${fileName})`}: model ${dst.dtype}, file ${src.dtype} (true/false values are not weights)`,
        );
        continue;
      }
      plan.push([dst, src, target]);
    }
    const missing = [...own.keys()].filter((k) => k.startsWith(scope) && !provided.has(k));
    const problems: string[] = [];
    if (mismatched.length) problems.push(`${mismatched.length} shape mismatch(es):\n    ${mismatched.join('\n    ')}`);
    if (dtypeMismatched.length) problems.push(`${dtypeMismatched.length} dtype mismatch(es):\n    ${dtypeMismatched.join('\n    ')}`);
    if (strict && missing.length)
      problems.push(`${missing.length} model tensor(s) missing from the file:\n    ${missing.map((k) => `${k} ${fmt(own.get(k)!.shape)}`).join('\n    ')}`);
    if (strict && unexpected.length) problems.push(`${unexpected.length} file tensor(s) with no model tensor of that name:\n    ${unexpected.join('\n    ')}`);
    if (problems.length) {
      throw new Error(
        `loadPretrained: ${path} (${map.label}, ${model.constructor.name}): ${problems.join('\n  ')}${strict ? '' : '\n  (strict: false skips missing / unexpected names, never shape mismatches)'}`,
      );
    }
    if (ignored.length) notes.push(`loadPretrained: ${path}: ignored ${ignored.length} tensor(s) not used by the model: ${ignored.join(', ')}`);
    if (missing.length) notes.push(`loadPretrained: ${path}: ${missing.length} model tensor(s) not in the file kept their values: ${missing.join(', ')}`);
    if (unexpected.length) notes.push(`loadPretrained: ${path}: ${unexpected.length} file tensor(s) not in the model skipped: ${unexpected.join(', ')}`);
    noGrad(() =>
      tidy(() => {
        for (const [dst, src] of plan) {
          let v = src.shape.join(',') === dst.shape.join(',') ? src : src.reshape(dst.shape);
          if (v.dtype !== dst.dtype) v = v.to(dst.dtype);
          dst.copy_(v);
        }
      }),
    );
    for (const n of notes) log(n);
    return { loaded: plan.map(([, , n]) => n), missing, unexpected, ignored, notes };
  } finally {
    for (const t of file.values()) t.dispose();
  }
}
