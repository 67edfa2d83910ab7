// Positive / negative pair masks (spec §3.0): positive = same label, negative = different label. For a
// batch compared with itself the positives exclude the diagonal (a sample is not its own positive); for a
// batch compared with a reference set (proxies, memory) nothing is excluded.
import { type Tensor, eye } from '../engine/index.js';

export interface PairMasks {
  /** bool [rows, cols] */
  pos: Tensor;
  /** bool [rows, cols] */
  neg: Tensor;
}

/** Labels as a 1-D int64 vector: accepts [n] or [n, 1]. */
export function labelVector(labels: Tensor, what = 'labels'): Tensor {
  const s = labels.shape;
  if (s.length === 1) return labels;
  if (s.length === 2 && s[1] === 1) return labels.reshape([s[0]!]);
  throw new Error(`${what}: expected shape [n] or [n, 1], got [${s.join(', ')}]`);
}

/**
 * Masks of rowLabels vs colLabels. Without colLabels: the self case (rows = cols = the same samples), and
 * the diagonal is removed from the positives.
 */
export function pairMasks(rowLabels: Tensor, colLabels?: Tensor): PairMasks {
  const r = labelVector(rowLabels, 'pairMasks rowLabels');
  const c = colLabels === undefined ? r : labelVector(colLabels, 'pairMasks colLabels');
  const same = r.unsqueeze(1).eq(c.unsqueeze(0));
  const neg = same.logicalNot();
  const pos = colLabels === undefined ? same.logicalAnd(eye(r.size(0), { dtype: 'bool', device: r.device }).logicalNot()) : same;
  return { pos, neg };
}
