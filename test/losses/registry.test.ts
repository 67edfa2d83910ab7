// Registry, presets, options and the pair-loss / proxy-loss contract.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, int64 } from '../../src/engine/index.js';
import {
  lossPresets,
  LOSS_NAMES,
  PAIR_LOSS_NAMES,
  ContrastiveLoss,
  OriginalContrastiveLoss,
  TripletLoss,
  MultiSimilarityLoss,
  ProxyAnchorLoss,
  ProxyNCALoss,
  SoftTripleLoss,
  NormalizedSoftmaxLoss,
  ArcFaceLoss,
  SubCenterArcFaceLoss,
  CosFaceLoss,
  NTXentLoss,
  SupConLoss,
  CircleLoss,
  DATASET_PRESETS,
} from '../../src/losses/index.js';
import { createLoss } from '../../src/miners/index.js';
import { f64 } from './helpers.js';

const proxyOpts = { numClasses: 3, embeddingDim: 4 };

describe('registry and presets', () => {
  test('createLoss builds every CLI name with the right class and name', () => {
    tidy(() => {
      const classes = [
        ContrastiveLoss,
        OriginalContrastiveLoss,
        TripletLoss,
        MultiSimilarityLoss,
        ProxyAnchorLoss,
        ProxyNCALoss,
        SoftTripleLoss,
        NormalizedSoftmaxLoss,
        ArcFaceLoss,
        CosFaceLoss,
        SubCenterArcFaceLoss,
        NTXentLoss,
        SupConLoss,
        CircleLoss,
      ];
      assert.equal(classes.length, LOSS_NAMES.length);
      LOSS_NAMES.forEach((name, i) => {
        const l = createLoss(name, proxyOpts);
        assert.ok(l instanceof classes[i]!, name);
        assert.equal(l.name, name);
        assert.equal(l.acceptsReference, PAIR_LOSS_NAMES.includes(name), `${name} acceptsReference`);
        assert.equal(l.parameters().length, PAIR_LOSS_NAMES.includes(name) ? 0 : 1, `${name} parameters`);
      });
    });
  });

  test('paper presets per dataset, code defaults, overrides win', () => {
    assert.deepEqual([ContrastiveLoss.preset('cars').posMargin, ContrastiveLoss.preset('cars').negMargin], [0.2652, 0.5409]);
    assert.deepEqual([new ContrastiveLoss().posMargin, new ContrastiveLoss().negMargin], [0, 0.5]);
    assert.equal(ContrastiveLoss.preset('conventional').negMargin, 1.0);
    assert.equal(TripletLoss.preset('cub').margin, 0.0961);
    assert.equal(new TripletLoss().margin, 0.05);
    const ms = MultiSimilarityLoss.preset('inshop');
    assert.deepEqual([ms.alpha, ms.beta, ms.lambda], [8.49, 57.38, 0.41]);
    assert.equal(new MultiSimilarityLoss().beta, 50);
    assert.equal(OriginalContrastiveLoss.preset('sop').margin, 0.5);
    tidy(() => {
      assert.equal(ProxyNCALoss.preset('code', proxyOpts).temperature, 0.11);
      assert.equal(ProxyNCALoss.preset('cub', proxyOpts).temperature, 0.1);
      const st = SoftTripleLoss.preset('sop', proxyOpts);
      assert.deepEqual([st.la, st.gamma, st.tau, st.delta, st.centersPerClass], [100, 47.9, 0.2, 0.3145, 10]);
      assert.equal(st.parameters()[0]!.shape[0], 30);
      const pa = ProxyAnchorLoss.preset('cars', proxyOpts);
      assert.deepEqual([pa.alpha, pa.delta, pa.parameterLrMultiplier], [32, 0.1, 100]);
      const c = createLoss('contrastive', { preset: 'cub', negMargin: 1 }) as ContrastiveLoss;
      assert.deepEqual([c.posMargin, c.negMargin], [0, 1]);
    });
    for (const name of ['contrastive', 'original_contrastive', 'triplet', 'multi_similarity', 'proxy_anchor', 'proxy_nca', 'soft_triple'] as const) {
      for (const ds of DATASET_PRESETS) assert.ok(lossPresets[name][ds], `${name} has a ${ds} preset`);
      assert.ok(lossPresets[name].code, `${name} has a code preset`);
    }
  });

  test('defaults: Lipschitz normalisation for the paper losses, l2 for the PML-only ones', () => {
    const pmlOnly = ['normalized_softmax', 'arcface', 'cosface', 'subcenter_arcface', 'ntxent', 'supcon', 'circle'];
    tidy(() => {
      for (const name of LOSS_NAMES) {
        const l = createLoss(name, proxyOpts) as unknown as { embeddingNormalization: string };
        assert.equal(l.embeddingNormalization, pmlOnly.includes(name) ? 'l2' : 'lipschitz', name);
      }
    });
  });

  test('proxies: layout i mod C, keep their values through stateDict / loadStateDict, lr multiplier', () => {
    tidy(() => {
      const st = new SoftTripleLoss({ ...proxyOpts, centersPerClass: 2, dtype: 'float64' });
      assert.deepEqual(st.proxies.labels.toArray(), [0, 1, 2, 0, 1, 2]);
      assert.equal(st.parameters()[0]!.requiresGrad, true);
      assert.equal(st.parameterLrMultiplier, 100);
      const other = new SoftTripleLoss({ ...proxyOpts, centersPerClass: 2, dtype: 'float64' });
      other.loadStateDict(st.stateDict());
      assert.deepEqual(other.parameters()[0]!.toArray(), st.parameters()[0]!.toArray());
      assert.equal(new NormalizedSoftmaxLoss(proxyOpts).parameterLrMultiplier, 1);
      assert.throws(() => other.loadStateDict({ proxies: f64([[1, 2]]) }), /soft_triple: proxies must have shape \[6, 4\]/);
    });
  });

  test('proxy losses ignore a reference set', () => {
    tidy(() => {
      const l = new ProxyNCALoss({ ...proxyOpts, dtype: 'float64' });
      const x = f64([
        [1, 0, 0, 0],
        [0, 1, 0, 0],
      ]);
      const y = int64([0, 2]);
      assert.equal(l.forward(x, y).item(), l.forward(x, y).item());
    });
  });

  test('errors: unknown names, ccp prefix, missing presets / options', () => {
    assert.throws(() => createLoss('lifted'), /unknown loss 'lifted'; known: contrastive, original_contrastive/);
    assert.throws(() => createLoss('ccp/contrastive'), /CCP losses are built by the ccp module/);
    assert.throws(() => createLoss('normalized_softmax', { ...proxyOpts, preset: 'cub' }), /normalized_softmax: no preset 'cub'; available: pml/);
    assert.throws(() => createLoss('proxy_anchor', {}), /proxy_anchor: numClasses must be an integer >= 1, got undefined/);
    assert.throws(() => createLoss('triplet', { path: 'sparse' }), /triplet: path must be 'auto', 'dense' or 'chunked'/);
    assert.throws(
      () => createLoss('multi_similarity', { embeddingNormalization: 'L2' }),
      /multi_similarity: embeddingNormalization must be one of lipschitz, l2, none, got 'L2'/,
    );
    assert.throws(() => createLoss('xbm/contrastive'), /give options.xbm.memoryBatches or memorySize, or a preset/);
  });
});
