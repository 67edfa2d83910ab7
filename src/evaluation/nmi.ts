// Normalized and adjusted mutual information between two labelings, with the arithmetic-mean normaliser
// (scikit-learn's default, what PML reports): NMI = MI(U, V) / ((H(U) + H(V)) / 2), AMI corrects MI for
// chance. Natural logarithms (the base cancels).
// Special cases follow scikit-learn: both labelings with a single (or no) cluster -> 1; MI = 0 -> 0.

/** Shannon entropy (nats) of a labeling. */
export function labelEntropy(labels: ArrayLike<number>): number {
  const n = labels.length;
  if (n === 0) return 0;
  let h = 0;
  for (const c of clusterSizes(labels)) h -= (c / n) * Math.log(c / n);
  return Math.max(0, h);
}

/** Size of every cluster of a labeling. */
function clusterSizes(labels: ArrayLike<number>): number[] {
  const m = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) m.set(labels[i]!, (m.get(labels[i]!) ?? 0) + 1);
  return [...m.values()];
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
  if (labelsTrue.length !== labelsPred.length)
    throw new Error(`normalizedMutualInformation: labelings have different lengths (${labelsTrue.length} and ${labelsPred.length})`);
  const nTrue = new Set(Array.from(labelsTrue)).size;
  const nPred = new Set(Array.from(labelsPred)).size;
  if (nTrue === nPred && nTrue <= 1) return 1;
  const mi = mutualInformation(labelsTrue, labelsPred);
  if (mi === 0) return 0;
  const norm = (labelEntropy(labelsTrue) + labelEntropy(labelsPred)) / 2;
  return Math.min(1, mi / norm);
}

/** log(n!) for n = 0..N (exact sums of logs; every argument of the EMI formula is an integer). */
function logFactorials(N: number): Float64Array {
  const t = new Float64Array(N + 2);
  for (let i = 2; i <= N + 1; i++) t[i] = t[i - 1]! + Math.log(i);
  return t;
}

/**
 * Expected mutual information (nats) of two random labelings with the cluster sizes of `a` and `b`
 * (hypergeometric model; Vinh, Epps & Bailey 2010), summed as scikit-learn's expected_mutual_information.
 * Cost: sum over cluster pairs of min(|a_i|, |b_j|).
 */
export function expectedMutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`expectedMutualInformation: labelings have different lengths (${a.length} and ${b.length})`);
  const N = a.length;
  if (N === 0) return 0;
  const ca = clusterSizes(a);
  const cb = clusterSizes(b);
  const lf = logFactorials(N);
  const logN = Math.log(N);
  let emi = 0;
  for (const ai of ca) {
    for (const bj of cb) {
      const start = Math.max(1, ai - N + bj);
      const end = Math.min(ai, bj);
      // terms that do not depend on nij
      const base = lf[ai]! + lf[bj]! + lf[N - ai]! + lf[N - bj]! - lf[N]!;
      for (let nij = start; nij <= end; nij++) {
        const term2 = logN + Math.log(nij) - Math.log(ai) - Math.log(bj);
        const gln = base - lf[nij]! - lf[ai - nij]! - lf[bj - nij]! - lf[N - ai - bj + nij]!;
        emi += (nij / N) * term2 * Math.exp(gln);
      }
    }
  }
  return emi;
}

/**
 * Adjusted mutual information with the arithmetic-mean normaliser (scikit-learn's default, what PML's
 * AccuracyCalculator reports): AMI = (MI - E[MI]) / ((H(U) + H(V)) / 2 - E[MI]). Both labelings with a single
 * (or no) cluster -> 1; the denominator keeps its sign and is at least float64 eps in size (scikit-learn).
 */
export function adjustedMutualInformation(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): number {
  if (labelsTrue.length !== labelsPred.length)
    throw new Error(`adjustedMutualInformation: labelings have different lengths (${labelsTrue.length} and ${labelsPred.length})`);
  const nTrue = new Set(Array.from(labelsTrue)).size;
  const nPred = new Set(Array.from(labelsPred)).size;
  if (nTrue === nPred && nTrue <= 1) return 1;
  const mi = mutualInformation(labelsTrue, labelsPred);
  const emi = expectedMutualInformation(labelsTrue, labelsPred);
  const norm = (labelEntropy(labelsTrue) + labelEntropy(labelsPred)) / 2;
  let denom = norm - emi;
  denom = denom < 0 ? Math.min(denom, -Number.EPSILON) : Math.max(denom, Number.EPSILON);
  return (mi - emi) / denom;
}
