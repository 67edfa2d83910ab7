// ccp(ContrastiveLoss) against a plain JS evaluation of spec §3.1 (C2) on N(v)-normalised vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, int64, tidy, keep } from '../../src/engine/index.js';
import { ContrastiveLoss } from '../../src/losses/index.js';
import { ccp } from '../../src/ccp/index.js';

const N = (v: number[]) => {
  const n = Math.hypot(...v);
  return n > 1 ? v.map((x) => x / n) : v;
};

/** C2: mean over active positive terms (d − m+)+ plus mean over active negative terms (m− − d)+. */
function contrastiveReference(x: number[][], y: number[], r: number[][] | null, rl: number[] | null, mPos: number, mNeg: number): number {
  const xs = x.map(N);
  const refs = (r ?? x).map(N);
  const refLabels = rl ?? y;
  let pos = 0;
  let nPos = 0;
  let neg = 0;
  let nNeg = 0;
  xs.forEach((xi, i) =>
    refs.forEach((rj, j) => {
      if (!r && i === j) return;
      const d = Math.hypot(...xi.map((v, k) => v - rj[k]!));
      if (y[i] === refLabels[j]) {
        const t = d - mPos;
        if (t > 0) (pos += t), nPos++;
      } else {
        const t = mNeg - d;
        if (t > 0) (neg += t), nNeg++;
      }
    }),
  );
  return pos / (nPos + 1e-16) + neg / (nNeg + 1e-16);
}

const X = [
  [1.5, 0.2, -0.3],
  [0.1, 0.2, 0.3],
  [-0.4, 0.9, 0.1],
  [0.3, -0.2, 0.6],
  [2, 1, 0],
  [0.05, 0.1, -0.1],
];
const Y = [0, 0, 1, 1, 2, 2];
const P = [
  [0.2, 0.1, 0],
  [0, 0.3, 0.1],
  [0.1, 0, 0.4],
  [1, 1, 1],
  [-0.2, 0.5, 0],
  [0.3, 0.3, 0.3],
]; // C = 3, K = 2
const PL = [0, 1, 2, 0, 1, 2];

for (const [mPos, mNeg] of [
  [0, 0.5],
  [0.1, 1.0],
] as const) {
  test(`ccp(contrastive m+=${mPos}, m−=${mNeg}) = 0.1·C2(X, X) + C2(X, P)`, () => {
    const loss = ccp(new ContrastiveLoss({ posMargin: mPos, negMargin: mNeg }), { numClasses: 3, dim: 3, proxiesPerClass: 2 });
    try {
      assert.equal(loss.name, 'ccp/contrastive');
      loss.proxySet.assign(tensor(P, undefined, { dtype: 'float32' }));
      const x = keep(tensor(X)).requireGrad(true);
      const value = tidy(() => {
        const v = loss.forward(x, int64(Y));
        v.backward();
        return v.item();
      });
      const expected = 0.1 * contrastiveReference(X, Y, null, null, mPos, mNeg) + contrastiveReference(X, Y, P, PL, mPos, mNeg);
      assert.ok(Math.abs(value - expected) < 1e-5, `${value} vs ${expected}`);
      // Both terms are live: the proxy term alone differs, and gradients reach P and X.
      assert.ok(Math.abs(contrastiveReference(X, Y, P, PL, mPos, mNeg) - expected) > 1e-4);
      assert.ok(tidy(() => loss.proxies.grad!.abs().sum().item()) > 0);
      assert.ok(tidy(() => x.grad!.abs().sum().item()) > 0);
      x.dispose();
    } finally {
      loss.dispose();
    }
  });
}
