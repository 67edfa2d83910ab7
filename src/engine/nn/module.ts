// Module: the base of every layer and model. Holds named parameters, buffers and child modules, so that
// optimisers, checkpoints and pretrained-weight loading can address tensors by dotted names
// ("layer1.0.conv1.weight"), exactly as PyTorch's state_dict does.
import type { Tensor } from '../tensor.js';
import { keep } from '../scope.js';
import { noGrad } from '../autograd.js';
import { replaceData } from '../precision.js';
import { zeros } from '../creation.js';

/**
 * The same values with standard (NCHW) strides. contiguous() returns a tensor valid in both layouts (C == 1, 1x1
 * kernels) unchanged, NHWC strides included, and kernels choose their layout from the strides: a fresh copy.
 */
function standardLayout(t: Tensor): Tensor {
  return t.memoryFormat === 'channels_last' ? zeros(t.shape, { dtype: t.dtype, device: t.device }).copy_(t) : t.contiguous();
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /** Same as forward; reads better in model code. */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  protected registerParameter(name: string, t: Tensor): Tensor {
    keep(t);
    t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Replaces a parameter's tensor (used when loading weights of another layout). */
  protected setParameter(name: string, t: Tensor): void {
    if (!this.params.has(name)) throw new Error(`no parameter '${name}' in ${this.constructor.name}`);
    this.params.get(name)!.dispose();
    this.registerParameter(name, t);
  }

  namedChildren(): [string, Module][] {
    return [...this.children.entries()];
  }

  /** Every module in the tree with its dotted prefix ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.params) out.push([prefix ? `${prefix}.${n}` : n, p]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Parameters that currently receive gradients (frozen ones excluded). */
  trainableParameters(): Tensor[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.buffers) out.push([prefix ? `${prefix}.${n}` : n, b]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Switches training mode for this module and its children (dropout, batch norm). Returns this. */
  train(flag = true): this {
    this.training = flag;
    for (const c of this.children.values()) c.train(flag);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values from `state` into this module's tensors. With strict (default), missing or unexpected
   * names and any shape mismatch throw an error listing them.
   */
  loadStateDict(state: Map<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, t] of own) {
      const src = state.get(k);
      if (src && src.shape.join(',') !== t.shape.join(',')) mismatched.push(`${k}: expected [${t.shape}] got [${src.shape}]`);
    }
    if (mismatched.length) throw new Error(`loadStateDict: shape mismatch for ${mismatched.join('; ')}`);
    // true/false values are not weights: converting them to 0/1 would load a wrong file silently.
    const boolMix = [...own].filter(([k, t]) => {
      const src = state.get(k);
      return src !== undefined && (src.dtype === 'bool') !== (t.dtype === 'bool');
    });
    if (boolMix.length)
      throw new Error(
        `loadStateDict: dtype mismatch for ${boolMix.map(([k, t]) => `${k}: the model's tensor is ${t.dtype}, the file's is ${state.get(k)!.dtype}`).join('; ')}`,
      );
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(`loadStateDict: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}`);
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const src = state.get(k);
        if (src) t.copy_(src.dtype === t.dtype ? src : src.to(t.dtype));
      }
    });
    return { missing, unexpected };
  }

  /**
   * Device of the weights: the first parameter's, else the first buffer's ('cpu' for a module without tensors).
   * Found without listing every tensor: embedding reads it for each batch and each query.
   */
  get device(): string {
    return (this.firstTensor((m) => m.params) ?? this.firstTensor((m) => m.buffers))?.device ?? 'cpu';
  }

  /** The first tensor in namedParameters / namedBuffers order (own ones, then the children's in order). */
  private firstTensor(own: (m: Module) => Map<string, Tensor>): Tensor | undefined {
    const first = own(this).values().next();
    if (!first.done) return first.value;
    for (const c of this.children.values()) {
      const t = c.firstTensor(own);
      if (t) return t;
    }
    return undefined;
  }

  /**
   * Moves every parameter and buffer to `device` ('cpu', 'cuda:0', ...) in place: the same Tensor objects, so
   * an optimiser built before still holds them (libtorch's set_data, as torch's Module.to: CPU and CUDA storage
   * are interchangeable under one tensor). Returns this.
   */
  to(device: string): this {
    return this.replaceEach(
      () => true,
      (t) => (t.device === device ? null : t.toDevice(device)),
    );
  }

  /**
   * Puts every 4-D parameter and buffer (convolution weights) in `format` memory in place, as torch's
   * `module.to(memory_format=...)`: 'channels_last' (NHWC, faster oneDNN convolutions on CPU) or 'contiguous'.
   * The inputs are the caller's to convert. Returns this.
   */
  toMemoryFormat(format: 'channels_last' | 'contiguous'): this {
    return this.replaceEach(
      (t) => t.shape.length === 4,
      (t) => (format === 'channels_last' ? t.toChannelsLast() : standardLayout(t)),
    );
  }

  /** Gives each selected tensor the data of `make(t)` (null: leave it), keeping the Tensor objects. */
  private replaceEach(select: (t: Tensor) => boolean, make: (t: Tensor) => Tensor | null): this {
    noGrad(() => {
      for (const [, t] of this.stateDict()) {
        if (!select(t)) continue;
        const moved = make(t);
        if (!moved) continue;
        replaceData(t, moved);
        moved.dispose();
      }
    });
    return this;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}
