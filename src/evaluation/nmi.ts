// Normalized mutual information between two labelings, with the arithmetic-mean normaliser (scikit-learn's
// default): NMI = MI(U, V) / ((H(U) + H(V)) / 2). Natural logarithms (the base cancels).
// Special cases follow scikit-learn: both labelings with a single (or no) cluster -> 1; MI = 0 -> 0.

/** Shannon entropy (nats) of a labeling. */
export function labelEntropy(labels: ArrayLike<number>): number {
  const n = labels.length;
  if (n === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / n) * Math.log(c / n);
  return Math.max(0, h);
}

/** Mutual information (nats) of two labelings of the same items, from their contingency table. */
export function mutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`mutualInformation: labelings have different lengths (${a.length} and ${b.length})`);
  const n = a.length;
  if (n === 0) return 0;
  const ca = new Map<number, number>();
  const cb = new Map<number, number>();
  const joint = new Map<string, { i: number; j: number; c: number }>();
  for (let t = 0; t < n; t++) {
    const i = a[t]!;
    const j = b[t]!;
    ca.set(i, (ca.get(i) ?? 0) + 1);
    cb.set(j, (cb.get(j) ?? 0) + 1);
    const key = `${i},${j}`;
    const e = joint.get(key);
    if (e) e.c++;
    else joint.set(key, { i, j, c: 1 });
  }
  let mi = 0;
  for (const { i, j, c } of joint.values()) mi += (c / n) * Math.log((n * c) / (ca.get(i)! * cb.get(j)!));
  return Math.max(0, mi);
}

/** NMI with arithmetic-mean normalisation, in [0, 1]. */
export function normalizedMutualInformation(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): number {
  if (labelsTrue.length !== labelsPred.length) throw new Error(`normalizedMutualInformation: labelings have different lengths (${labelsTrue.length} and ${labelsPred.length})`);
  const nTrue = new Set(Array.from(labelsTrue)).size;
  const nPred = new Set(Array.from(labelsPred)).size;
  if (nTrue === nPred && nTrue <= 1) return 1;
  const mi = mutualInformation(labelsTrue, labelsPred);
  if (mi === 0) return 0;
  const norm = (labelEntropy(labelsTrue) + labelEntropy(labelsPred)) / 2;
  return Math.min(1, mi / norm);
}
