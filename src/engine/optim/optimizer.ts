// Optimizer base: parameter groups, learning rates (with a per-group multiplier), gradient reset, and a
// state dict made of named tensors plus JSON-able scalars, so that it fits a safetensors file.
import { Tensor } from '../tensor.js';
import { keep, tidy } from '../scope.js';
import { noGrad } from '../autograd.js';
import { native } from '../../native/binding.js';

/** JSON-able hyperparameter value of a group. */
export type GroupValue = number | boolean | string | null | number[];

/** A parameter group as the optimizer holds it. Extra hyperparameters (betas, eps, momentum...) live alongside. */
export interface ParamGroup {
  params: Tensor[];
  /** Base learning rate (what schedules change). */
  lr: number;
  weightDecay: number;
  /** The update uses lr * lrMultiplier (e.g. 100 for proxies, like AdamLRM); default 1. */
  lrMultiplier: number;
  /** Optional label, kept in state dicts. */
  name?: string;
  [hyper: string]: GroupValue | Tensor[] | undefined;
}

/** What a caller passes: a group with some hyperparameters left to the optimizer's defaults. */
export type ParamGroupInput = { params: Tensor[]; lr?: number; weightDecay?: number; lrMultiplier?: number; name?: string } & Record<string, unknown>;

export type ParamsInput = Tensor[] | ParamGroupInput[];

/** Scalars of an optimizer state (JSON), next to the tensors. */
export interface OptimizerScalars {
  type: string;
  groups: Record<string, GroupValue | undefined>[];
  /** Per global parameter index: scalar state (step counts and the like). */
  state: Record<string, Record<string, number>>;
}

export interface OptimizerState {
  /** Named state tensors: `state.<paramIndex>.<key>`, e.g. 'state.0.exp_avg'. */
  tensors: Map<string, Tensor>;
  scalars: OptimizerScalars;
}

function isGroupList(p: ParamsInput): p is ParamGroupInput[] {
  return p.length > 0 && !(p[0] instanceof Tensor);
}

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  /** Per-parameter tensor state (moment estimates, momentum buffers). */
  protected readonly tensorState = new Map<Tensor, Map<string, Tensor>>();
  /** Per-parameter scalar state (step counts). */
  protected readonly scalarState = new Map<Tensor, Record<string, number>>();
  protected readonly defaults: Record<string, GroupValue>;

  constructor(params: ParamsInput, defaults: Record<string, GroupValue> & { lr: number; weightDecay: number }) {
    this.defaults = { lrMultiplier: 1, ...defaults };
    if (params.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    const groups: ParamGroupInput[] = isGroupList(params) ? params : [{ params: params as Tensor[] }];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Name used in state dicts. */
  abstract get type(): string;

  /** Checks one group's hyperparameters; throws naming the bad one. */
  protected abstract validateGroup(g: ParamGroup, index: number): void;

  /** Applies one update to the parameters that have gradients. */
  abstract step(): void;

  addParamGroup(input: ParamGroupInput): void {
    const index = this.paramGroups.length;
    if (!input || !Array.isArray(input.params)) throw new Error(`${this.constructor.name}: param group ${index} needs a 'params' array`);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    input.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${this.constructor.name}: param group ${index}, params[${i}] is not a Tensor`);
      if (!p.isLeaf) throw new Error(`${this.constructor.name}: param group ${index}, params[${i}] is not a leaf tensor and cannot be optimised`);
      if (seen.has(p)) throw new Error(`${this.constructor.name}: param group ${index}, params[${i}] appears in more than one place`);
      seen.add(p);
    });
    const g = { ...this.defaults, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)), params: [...input.params] } as ParamGroup;
    for (const k of ['lr', 'weightDecay', 'lrMultiplier'] as const) {
      if (typeof g[k] !== 'number' || !Number.isFinite(g[k]) || g[k] < 0)
        throw new Error(`${this.constructor.name}: param group ${index}: ${k} must be a finite number >= 0, got ${String(g[k])}`);
    }
    this.validateGroup(g, index);
    this.paramGroups.push(g);
  }

  /** Every parameter, in group order (the index used by state dicts). */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Drops all gradients (set to none, like zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    native.zeroGrads(this.params().map((p) => p.native));
  }

  /** Base learning rate of the first group. */
  get lr(): number {
    return this.paramGroups[0]!.lr;
  }
  set lr(v: number) {
    this.setLr(v);
  }

  /** Base learning rates of all groups. */
  get lrs(): number[] {
    return this.paramGroups.map((g) => g.lr);
  }

  /** Sets the base learning rate of every group (a number) or of each group (an array, one per group). */
  setLr(lr: number | number[]): void {
    const values = Array.isArray(lr) ? lr : this.paramGroups.map(() => lr);
    if (values.length !== this.paramGroups.length) throw new Error(`setLr: got ${values.length} learning rates for ${this.paramGroups.length} param groups`);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`setLr: learning rate for group ${i} must be a finite number >= 0, got ${v}`);
    });
    values.forEach((v, i) => (this.paramGroups[i]!.lr = v));
  }

  /** The learning rate the update of group i actually uses: lr * lrMultiplier. */
  effectiveLr(i = 0): number {
    const g = this.paramGroups[i];
    if (!g) throw new RangeError(`effectiveLr(${i}): there are ${this.paramGroups.length} param groups`);
    return g.lr * g.lrMultiplier;
  }

  /** Lazily created per-parameter state tensor (kept alive across tidy scopes). */
  protected stateTensor(p: Tensor, key: string, init: () => Tensor): Tensor {
    let s = this.tensorState.get(p);
    if (!s) {
      s = new Map();
      this.tensorState.set(p, s);
    }
    let t = s.get(key);
    if (!t) {
      t = keep(noGrad(init));
      s.set(key, t);
    }
    return t;
  }

  protected scalars(p: Tensor): Record<string, number> {
    let s = this.scalarState.get(p);
    if (!s) {
      s = {};
      this.scalarState.set(p, s);
    }
    return s;
  }

  /** Whether the parameter currently holds a gradient (without creating a handle). */
  protected static hasGrad(p: Tensor): boolean {
    const g = native.tensorGrad(p.native);
    if (!g) return false;
    native.tensorDispose(g);
    return true;
  }

  /**
   * State as named tensors ('state.<i>.<key>', i = global parameter index) and JSON scalars (group
   * hyperparameters, step counts). The tensors are the live ones; copy them if the optimizer keeps stepping.
   */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    const state: OptimizerScalars['state'] = {};
    this.params().forEach((p, i) => {
      for (const [k, t] of this.tensorState.get(p) ?? []) tensors.set(`state.${i}.${k}`, t);
      const sc = this.scalarState.get(p);
      if (sc && Object.keys(sc).length) state[String(i)] = { ...sc };
    });
    const groups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return { ...(hyper as Record<string, GroupValue | undefined>), numParams: params.length };
    });
    return { tensors, scalars: { type: this.type, groups, state } };
  }

  /**
   * Restores a state from stateDict() of an optimizer of the same type built over parameters of the same
   * shapes and grouping. Hyperparameters (lr, betas...) come from the state; tensors are copied.
   */
  loadStateDict(s: OptimizerState): void {
    const who = `${this.constructor.name}.loadStateDict`;
    if (!s || !s.scalars || !(s.tensors instanceof Map)) throw new Error(`${who}: expected { tensors: Map, scalars }`);
    if (s.scalars.type !== this.type) throw new Error(`${who}: state is for '${s.scalars.type}', this optimizer is '${this.type}'`);
    if (!Array.isArray(s.scalars.groups) || s.scalars.groups.length !== this.paramGroups.length) {
      throw new Error(`${who}: state has ${s.scalars.groups?.length} param groups, this optimizer has ${this.paramGroups.length}`);
    }
    s.scalars.groups.forEach((g, i) => {
      if (g.numParams !== this.paramGroups[i]!.params.length)
        throw new Error(`${who}: param group ${i} has ${g.numParams} params in the state, ${this.paramGroups[i]!.params.length} here`);
    });
    const params = this.params();
    const parsed = new Map<Tensor, Map<string, Tensor>>();
    for (const [name, t] of s.tensors) {
      const m = /^state\.(\d+)\.(.+)$/.exec(name);
      if (!m) throw new Error(`${who}: unexpected tensor name '${name}' (expected state.<index>.<key>)`);
      const p = params[Number(m[1])];
      if (!p) throw new Error(`${who}: tensor '${name}' refers to parameter ${m[1]}, there are ${params.length}`);
      if (t.shape.join(',') !== p.shape.join(',')) throw new Error(`${who}: '${name}' has shape [${t.shape}], parameter ${m[1]} has [${p.shape}]`);
      if (!parsed.has(p)) parsed.set(p, new Map());
      parsed.get(p)!.set(m[2]!, t);
    }
    for (const k of Object.keys(s.scalars.state ?? {})) {
      if (!params[Number(k)]) throw new Error(`${who}: scalar state refers to parameter ${k}, there are ${params.length}`);
    }
    // Validate the new group hyperparameters before changing anything.
    const newGroups = s.scalars.groups.map((g, i) => {
      const { numParams: _n, ...hyper } = g;
      const merged = { ...this.paramGroups[i]!, ...hyper, params: this.paramGroups[i]!.params } as ParamGroup;
      this.validateGroup(merged, i);
      return merged;
    });
    this.clearState();
    newGroups.forEach((g, i) => (this.paramGroups[i] = g));
    noGrad(() => {
      for (const [p, m] of parsed) {
        const dst = new Map<string, Tensor>();
        for (const [k, t] of m) dst.set(k, keep(tidy(() => t.to(p.dtype).clone())));
        this.tensorState.set(p, dst);
      }
    });
    for (const [k, v] of Object.entries(s.scalars.state ?? {})) this.scalarState.set(params[Number(k)]!, { ...v });
  }

  private clearState(): void {
    for (const m of this.tensorState.values()) for (const t of m.values()) t.dispose();
    this.tensorState.clear();
    this.scalarState.clear();
  }

  /** Frees the state tensors (parameters are not touched). */
  dispose(): void {
    this.clearState();
  }
}
