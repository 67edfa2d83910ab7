// Finite-difference gradient checks (float64) of every loss with respect to the embeddings, the reference
// set (pair losses) and the proxies (proxy losses). Inputs are random; margins are chosen so that every
// hinge has active and inactive terms.
import { test, describe } from 'node:test';
import { tidy, manualSeed, randn, int64, noGrad, tensor, type Tensor } from '../../src/engine/index.js';
import { gradcheck } from '../../src/engine/testing/index.js';
import type { MetricLoss } from '../../src/losses/index.js';
import { createLoss } from '../../src/miners/index.js';
import { assertClose } from './helpers.js';

const y = () => int64([0, 1, 0, 2, 1, 2, 0]);
const ry = () => int64([0, 1, 2, 0, 2]);

const pairCases: [string, Record<string, unknown>][] = [
  ['contrastive', { posMargin: 0.3, negMargin: 1.1 }],
  ['original_contrastive', { margin: 0.1 }],
  ['original_contrastive', { margin: 0.1, reduction: 'active' }],
  ['triplet', { margin: 0.3 }],
  ['triplet', { margin: 0.3, path: 'chunked', denseLimit: 10 }],
  ['multi_similarity', { alpha: 2, beta: 10, lambda: 0.5 }],
  ['contrastive', { distance: 'cosine', posMargin: 0.8, negMargin: 0.1 }],
  ['triplet', { distance: 'dot', margin: 0.3 }],
  ['ntxent', { temperature: 0.5 }],
  ['supcon', { temperature: 0.5 }],
  // (circle is left out: its weights [.]_+ are constants for autograd, as in the paper and PML, so its
  // gradient is not the derivative of its value; test/pml checks it against PML's gradient)
  ['triplet', { margin: 0.3, miner: 'semihard' }],
  ['multi_similarity', { alpha: 2, beta: 10, lambda: 0.5, miner: 'multi_similarity' }],
];

const proxyCases: [string, Record<string, unknown>][] = [
  ['proxy_anchor', { alpha: 8, proxiesPerClass: 2 }],
  ['proxy_nca', { temperature: 0.3, delta: 0.1 }],
  ['soft_triple', { la: 5, gamma: 0.5, tau: 0.3, delta: 0.1, centersPerClass: 3 }],
  ['normalized_softmax', { temperature: 0.2 }],
  ['arcface', { margin: 0.3, scale: 4 }],
  ['arcface', { margin: 2.5, scale: 4 }], // most target angles past pi - m
  ['subcenter_arcface', { margin: 0.3, scale: 4, subCenters: 2 }],
  ['cosface', { margin: 0.2, scale: 4 }],
  ['proxy_anchor', { alpha: 8, distance: 'euclidean', negativeDivisor: 'classes' }],
  ['soft_triple', { la: 5, gamma: 0.5, tau: 0, delta: 0.1, centersPerClass: 2, distance: 'cosine' }],
];

/** Central differences of loss(proxies) against the proxies' autograd gradient. */
function checkProxyGrad(loss: MetricLoss, x: Tensor, labels: Tensor, name: string): void {
  const p = loss.parameters()[0]!;
  p.zeroGrad();
  loss.forward(x, labels).backward();
  const analytic = p.grad!.toArray();
  const base = p.toFloat64Array();
  const numeric: number[] = [];
  const eps = 1e-6;
  const at = (k: number, v: number) =>
    tidy(() => {
      const d = base.slice();
      d[k] = v;
      noGrad(() => p.copy_(tensor(d, p.shape, { dtype: 'float64' })));
      return noGrad(() => loss.forward(x, labels).item());
    });
  for (let k = 0; k < base.length; k++) numeric.push((at(k, base[k]! + eps) - at(k, base[k]! - eps)) / (2 * eps));
  noGrad(() => p.copy_(tensor(base, p.shape, { dtype: 'float64' })));
  assertClose(analytic, numeric, `${name}: d loss / d proxies vs central differences`, 1e-5, 1e-4);
}

describe('finite-difference gradients', () => {
  for (const [name, o] of pairCases) {
    test(`${name} ${JSON.stringify(o)}: embeddings (self) and embeddings + reference`, () => {
      tidy(() => {
        manualSeed(31);
        const x = randn([7, 3], { dtype: 'float64' }).mul(0.8);
        const r = randn([5, 3], { dtype: 'float64' }).mul(0.8);
        const loss = createLoss(name, o);
        gradcheck((a) => loss.forward(a, y()), [x], { name: `${name} self` });
        gradcheck((a, b) => loss.forward(a, y(), { embeddings: b, labels: ry() }), [x, r], { name: `${name} ref` });
      });
    });
  }

  for (const [name, o] of proxyCases) {
    test(`${name}: embeddings and proxies`, () => {
      tidy(() => {
        manualSeed(32);
        const x = randn([7, 3], { dtype: 'float64' }).mul(0.9);
        const loss = createLoss(name, { numClasses: 3, embeddingDim: 3, dtype: 'float64', ...o });
        gradcheck((a) => loss.forward(a, y()), [x], { name });
        checkProxyGrad(loss, x, y(), name);
      });
    });
  }
});
