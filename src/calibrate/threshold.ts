// Distance thresholds for "match or unknown" (TF Similarity's calibrate/match). Each calibration query has
// its nearest neighbour's distance and whether that neighbour has the query's label. At threshold t a query
// is answered with the neighbour's label when distance <= t, else "unknown":
//   TP: answered, right label     FP: answered, wrong label     FN: unknown, though the label was right
//   precision = TP / (TP + FP)    recall = TP / (TP + FN)       F1 = 2PR / (P + R)
// The curve has one point per distinct distance (ascending): every threshold between two of them gives the
// same answers as the lower one.

export interface CurvePoint {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  /** Share of queries answered with a label (not "unknown"). */
  answered: number;
}

export function thresholdCurve(distances: ArrayLike<number>, correct: ArrayLike<boolean>): CurvePoint[] {
  const n = distances.length;
  if (n !== correct.length) throw new Error(`thresholdCurve: ${n} distances but ${correct.length} correctness flags`);
  if (n === 0) throw new Error('thresholdCurve: no calibration queries');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => distances[a]! - distances[b]!);
  let positives = 0;
  for (let i = 0; i < n; i++) if (correct[i]) positives++;
  const out: CurvePoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    if (correct[i]) tp++;
    else fp++;
    const next = order[j + 1];
    if (next !== undefined && distances[next] === distances[i]) continue;
    const precision = tp / (tp + fp);
    const recall = positives ? tp / positives : 0;
    out.push({
      threshold: distances[i]!,
      precision,
      recall,
      f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
      answered: (tp + fp) / n,
    });
  }
  return out;
}

export type ThresholdGoal = { metric: 'precision'; target: number } | { metric: 'f1' };

/**
 * The threshold for a goal: the largest one whose precision is at least the target (the most answers at that
 * precision), or the one with the best F1. Throws, naming the best precision reached, when no threshold meets
 * the target.
 */
export function pickThreshold(curve: readonly CurvePoint[], goal: ThresholdGoal): CurvePoint {
  if (!curve.length) throw new Error('pickThreshold: empty curve');
  if (goal.metric === 'f1') return curve.reduce((best, p) => (p.f1 > best.f1 ? p : best));
  const t = goal.target;
  if (!(t > 0 && t <= 1)) throw new Error(`target precision must be in (0, 1], got ${t}`);
  let pick: CurvePoint | undefined;
  for (const p of curve) if (p.precision >= t) pick = p;
  if (!pick) {
    const best = Math.max(...curve.map((p) => p.precision));
    throw new Error(
      `no distance threshold reaches precision ${t} on the calibration queries (the best is ${best.toFixed(4)}): lower the target or use --metric f1`,
    );
  }
  return pick;
}
