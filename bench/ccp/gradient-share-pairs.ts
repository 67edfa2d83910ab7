// For C1-CCP runs of bench:ccp-grad: how many pairs of each kind are active in C1's two terms (positives with
// s < 1 − ε, negatives with s > m), per batch row, on the measured steps. In the reference form ('anchors') every
// active pair weighs the same (the sums are divided by the rows only), so the counts say how the proxy term splits
// between pulling to the K own proxies and pushing from the K·(C − 1) others; 'active' averages each sum.
import { noGrad, tidy } from '../../src/engine/index.js';
import { isCcpLoss } from '../../src/ccp/index.js';
import { OriginalContrastiveLoss } from '../../src/losses/original_contrastive.js';
import { pairMatrix } from '../../src/losses/pairs.js';
import type { TrainCallback } from '../../src/training/hooks/index.js';

export interface ActivePairsSample {
  /** Forward (= step) index. */
  step: number;
  /** Mean over rows of the active positive / negative pairs against the proxies and within the batch. */
  proxyPositives: number;
  proxyNegatives: number;
  batchPositives: number;
  batchNegatives: number;
}

/** Counts C1's active pairs every `every`-th forward; a no-op for other base losses. Add after GradientShareCallback. */
export function activePairsProbe(every: number, out: ActivePairsSample[]): TrainCallback {
  let forwards = 0;
  return {
    name: 'active-pairs',
    onTrainBegin(ctx) {
      const loss = ctx.loss;
      if (!isCcpLoss(loss) || !(loss.base instanceof OriginalContrastiveLoss)) return;
      const c1 = loss.base;
      const previous = loss.termsObserver;
      loss.termsObserver = (terms) => {
        previous?.(terms);
        const step = forwards++;
        if (step % every !== 0) return;
        const counts = (withProxies: boolean) =>
          noGrad(() =>
            tidy(() => {
              const ref = withProxies ? { embeddings: loss.proxies, labels: loss.proxyLabels } : undefined;
              const { matrix: s, pos, neg } = pairMatrix(c1.name, terms.embeddings.detach(), terms.labels, ref, c1.distance, c1.embeddingNormalization);
              const rows = s.size(0);
              const activePos = c1.distance
                .margin(s, 1 - c1.eps)
                .gt(0)
                .logicalAnd(pos);
              const activeNeg = c1.distance.margin(c1.margin, s).gt(0).logicalAnd(neg);
              return [activePos.sum().item() / rows, activeNeg.sum().item() / rows];
            }),
          );
        const [proxyPositives, proxyNegatives] = counts(true) as [number, number];
        const [batchPositives, batchNegatives] = counts(false) as [number, number];
        out.push({ step, proxyPositives, proxyNegatives, batchPositives, batchNegatives });
      };
    },
  };
}
