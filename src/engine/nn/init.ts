// Weight initialisers (torch.nn.init style). Each fills `t` in place without recording autograd and returns
// it. Random draws go through the engine's generators, so manualSeed makes them reproducible.
import type { Tensor } from '../tensor.js';
import { rand, randn } from '../creation.js';
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fanIn' | 'fanOut';

/** fan_in / fan_out of a weight, as torch.nn.init._calculate_fan_in_and_fan_out ([out, in, ...kernel]). */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  const s = t.shape;
  if (s.length < 2) throw new Error(`fan in and fan out need a tensor with at least 2 dimensions, got shape [${s.join(', ')}]`);
  let receptive = 1;
  for (let i = 2; i < s.length; i++) receptive *= s[i]!;
  return { fanIn: s[1]! * receptive, fanOut: s[0]! * receptive };
}

/** torch.nn.init.calculate_gain. `param` is the negative slope for leaky_relu (default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

function drawType(t: Tensor): 'float32' | 'float64' {
  return t.dtype === 'float64' ? 'float64' : 'float32';
}

function fill(t: Tensor, make: () => Tensor): Tensor {
  noGrad(() =>
    tidy(() => {
      const v = make();
      t.copy_(v.dtype === t.dtype ? v : v.to(t.dtype));
    }),
  );
  return t;
}

/** U(low, high) in place. */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  if (!(high >= low)) throw new Error(`uniform_: high (${high}) must be >= low (${low})`);
  return fill(t, () =>
    rand(t.shape, { dtype: drawType(t) })
      .mul(high - low)
      .add(low),
  );
}

/** N(mean, std^2) in place. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return fill(t, () =>
    randn(t.shape, { dtype: drawType(t) })
      .mul(std)
      .add(mean),
  );
}

/**
 * Normal(mean, std^2) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_), by redrawing
 * the values that fall outside.
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2): Tensor {
  return fill(t, () => {
    let v = randn(t.shape, { dtype: drawType(t) })
      .mul(std)
      .add(mean);
    for (let i = 0; i < 100; i++) {
      const bad = v.lt(a).logicalOr(v.gt(b));
      if (!bad.any().item()) break;
      const redraw = randn(t.shape, { dtype: drawType(t) })
        .mul(std)
        .add(mean);
      v = redraw.where(bad, v);
    }
    return v.clamp(a, b);
  });
}

export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Xavier / Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). Same as Keras glorot_uniform. */
export function xavierUniform(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a);
}
export const glorotUniform = xavierUniform;

/** Xavier / Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}
export const glorotNormal = xavierNormal;

export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? fanIn : fanOut;
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He / Kaiming uniform (torch.nn.init.kaiming_uniform_): U(-b, b), b = gain * sqrt(3 / fan). */
export function kaimingUniform(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform_(t, -bound, bound);
}

/** He / Kaiming normal (torch.nn.init.kaiming_normal_): N(0, std^2), std = gain / sqrt(fan). */
export function kaimingNormal(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, o));
}

/**
 * He normal with ReLU gain: std = sqrt(2 / fan_in) (default mode fanIn). With `truncated`, draws like Keras'
 * he_normal: a normal truncated at two standard deviations with std = sqrt(2 / fan_in) / 0.87962566103423978.
 */
export function heNormal(t: Tensor, o: { mode?: FanMode; truncated?: boolean } = {}): Tensor {
  const std = kaimingStd(t, { mode: o.mode, nonlinearity: 'relu' });
  if (!o.truncated) return normal_(t, 0, std);
  const s = std / 0.87962566103423978;
  return truncNormal_(t, 0, s, -2 * s, 2 * s);
}

/** He uniform with ReLU gain (Keras he_uniform): U(-b, b), b = sqrt(6 / fan_in). */
export function heUniform(t: Tensor, o: { mode?: FanMode } = {}): Tensor {
  return kaimingUniform(t, { mode: o.mode, nonlinearity: 'relu' });
}
