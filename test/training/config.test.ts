import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, parseLossName } from '../../src/training/config.js';
import { presets } from '../../src/training/presets.js';
import { CCP_DEFAULTS } from '../../src/ccp/options.js';
import { resolveConfig, parseOverride, readConfigFile } from '../../src/cli/config-loader.js';
import { tempDir } from '../helpers/tmp.js';

test('every preset is a valid config', () => {
  for (const [name, p] of Object.entries(presets)) {
    const cfg = parseRunConfig(p, `preset ${name}`);
    assert.equal(cfg.dataset.name, p.dataset.name);
  }
});

test('paper presets carry the spec settings', () => {
  const cub = parseRunConfig(presets.cub);
  assert.equal(cub.optimizer.lr, 1e-5);
  assert.equal(cub.optimizer.weightDecay, 1e-4);
  assert.equal(cub.optimizer.clipNorm, 10);
  assert.equal(cub.training.stepsPerEpoch, 25);
  assert.equal(cub.training.earlyStopPatience, 60);
  assert.deepEqual([cub.ccp.proxiesPerClass, cub.ccp.poolSize, cub.ccp.lambda, cub.ccp.patience], [8, 12, 2e-4, 3]);
  assert.deepEqual([cub.dataset.imageSize, cub.dataset.resizeTo, cub.dataset.normalization], [227, 256, 'caffe']);
  const sop = parseRunConfig(presets.sop);
  assert.deepEqual([sop.ccp.proxiesPerClass, sop.ccp.poolSize, sop.training.stepsPerEpoch], [4, 7, 250]);
});

test('the ccp section is the library’s CCP options: same names, defaults and presets; explicit keys beat the preset', () => {
  const base = { dataset: { name: 'mnist' } } as const;
  const { minDelta, ...libraryDefaults } = CCP_DEFAULTS;
  assert.equal(minDelta, 1e-5);
  assert.deepEqual(parseRunConfig(base).ccp, libraryDefaults);
  const large = parseRunConfig({ ...base, ccp: { preset: 'large', lambda: 1e-3 } }).ccp;
  assert.deepEqual(large, { ...libraryDefaults, preset: 'large', proxiesPerClass: 4, poolSize: 7, lambda: 1e-3 });
  assert.equal(parseRunConfig({ ...base, ccp: { preset: 'small', proxiesPerClass: 5 } }).ccp.proxiesPerClass, 5);
  // A parsed config parses to itself (config.json of a run is re-read on resume).
  assert.deepEqual(parseRunConfig(parseRunConfig({ ...base, ccp: { preset: 'large' } })).ccp, {
    ...libraryDefaults,
    preset: 'large',
    proxiesPerClass: 4,
    poolSize: 7,
  });
  const viaFlag = resolveConfig({ preset: 'mnist', overrides: [parseOverride('ccp.preset=large')] }).ccp;
  assert.deepEqual([viaFlag.proxiesPerClass, viaFlag.poolSize, viaFlag.patience], [4, 7, 1]); // mnist's explicit keys win
  assert.throws(() => parseRunConfig({ ...base, ccp: { preset: 'huge' } }), /ccp\.preset/);
  assert.throws(() => parseRunConfig({ ...base, ccp: { proxiesPerClass: 0 } }), /ccp\.proxiesPerClass/);
  assert.throws(() => parseRunConfig({ ...base, ccp: { minDelta: 0 } }), /ccp: unknown key\(s\) 'minDelta'/);
  assert.throws(() => parseRunConfig({ ...base, ccp: { K: 4 } }), /ccp: unknown key\(s\) 'K'/);
});

test('the main job keeps K = 4, b = 7 and patience 1 explicitly', () => {
  const cfg = parseRunConfig(presets.mnist);
  assert.deepEqual([cfg.ccp.proxiesPerClass, cfg.ccp.poolSize, cfg.ccp.patience, cfg.ccp.preset], [4, 7, 1, undefined]);
});

test('unknown keys and bad values are rejected with the key named', () => {
  assert.throws(() => parseRunConfig({ dataset: { name: 'mnist', imgSize: 3 } }), /dataset: unknown key\(s\) 'imgSize'/);
  assert.throws(() => parseRunConfig({ dataset: { name: 'mnist' }, device: 'gpu' }), /device: expected 'cpu', 'cuda', 'cuda:N' or 'auto', got "gpu"/);
  assert.throws(() => parseRunConfig({ dataset: { name: 'mnist' }, device: 1 as never }), /device: expected .*, got 1/);
  assert.equal(parseRunConfig({ dataset: { name: 'mnist' }, device: 'cuda:1' }).device, 'cuda:1');
  assert.equal(parseRunConfig({ dataset: { name: 'mnist' } }).device, 'auto');
  assert.throws(() => parseRunConfig({ dataset: { name: 'mnist' }, optimizer: { lr: 0 } }), /optimizer\.lr/);
  assert.throws(() => parseRunConfig({ dataset: { name: 'imagenet' } }), /dataset\.name/);
  assert.throws(() => parseRunConfig({ dataset: { name: 'mnist' }, training: { stepsPerEpoch: 2.5 } }), /training\.stepsPerEpoch/);
  assert.throws(() => parseRunConfig({ dataset: { name: 'mnist' }, bogus: 1 }), /unknown key\(s\) 'bogus'/);
});

test('loss names: wrappers and base losses are checked', () => {
  assert.deepEqual(parseLossName('ccp/contrastive'), { wrapper: 'ccp', base: 'contrastive' });
  assert.deepEqual(parseLossName('proxy_anchor'), { wrapper: 'none', base: 'proxy_anchor' });
  assert.deepEqual(parseLossName('xbm/triplet'), { wrapper: 'xbm', base: 'triplet' });
  assert.throws(() => parseLossName('ccp/proxy_anchor'), /wraps a pair loss/);
  assert.throws(() => parseLossName('foo/contrastive'), /unknown wrapper 'foo'/);
  assert.throws(() => parseLossName('contrastiv'), /unknown loss 'contrastiv'/);
});

test('loss.preset accepts the losses’ preset names; a loss without the named preset is an error listing its own', () => {
  const base = { dataset: { name: 'mnist' } } as const;
  assert.equal(parseRunConfig({ ...base, loss: { name: 'multi_similarity', preset: 'conventional' } }).loss.preset, 'conventional');
  assert.equal(parseRunConfig({ ...base, loss: { name: 'ccp/triplet', preset: 'pml' } }).loss.preset, 'pml');
  assert.throws(() => parseRunConfig({ ...base, loss: { name: 'proxy_anchor', preset: 'conventional' } }), /no preset 'conventional'; available: /);
  assert.throws(() => parseRunConfig({ ...base, loss: { name: 'contrastive', preset: 'imagenet' } }), /loss\.preset/);
});

test('config precedence: preset < file < flags; --set parses YAML scalars', () => {
  const dir = tempDir('cfg');
  const file = join(dir, 'run.yaml');
  writeFileSync(file, 'optimizer:\n  lr: 0.005\ntraining:\n  stepsPerEpoch: 7\n');
  const cfg = resolveConfig({ preset: 'mnist', file, overrides: [parseOverride('training.stepsPerEpoch=9'), parseOverride('evaluation.recallAt=[1, 5]')] });
  assert.equal(cfg.optimizer.lr, 0.005);
  assert.equal(cfg.training.stepsPerEpoch, 9);
  assert.deepEqual(cfg.evaluation.recallAt, [1, 5]);
  assert.equal(cfg.loss.name, 'ccp/contrastive');
});

test('config file errors name the file', () => {
  const dir = tempDir('cfg');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'a: [1, 2\n');
  assert.throws(
    () => readConfigFile(bad),
    (e: Error) => e.message.includes(bad),
  );
  assert.throws(() => readConfigFile(join(dir, 'missing.yaml')), /config file not found: .*missing\.yaml/);
  const list = join(dir, 'list.json');
  writeFileSync(list, '[1]');
  assert.throws(() => readConfigFile(list), /must hold a mapping/);
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'dataset:\n  name: mnist\ntrainig:\n  maxEpochs: 3\n');
  assert.throws(
    () => resolveConfig({ file: typo }),
    (e: Error) => e.message.includes(typo) && e.message.includes("'trainig'"),
  );
  assert.throws(() => parseOverride('noequals'), /key=value/);
  assert.throws(() => resolveConfig({ preset: 'nope' }), /unknown preset 'nope'/);
});

test('pretrained weights fed other images than their metadata states are warned about', async () => {
  const { pretrainedWarnings } = await import('../../src/training/setup-summary.js');
  const cub = parseRunConfig({ ...presets.cub, model: { ...presets.cub.model, pretrained: 'bni.safetensors' } });
  assert.deepEqual(pretrainedWarnings(cub), []); // the paper preset matches BN-Inception's Caffe weights
  const wrong = parseRunConfig({
    ...presets.cub,
    dataset: { ...presets.cub.dataset, imageSize: 128, normalization: 'imagenet' },
    model: { ...presets.cub.model, pretrained: 'bni.safetensors' },
  });
  const w = pretrainedWarnings(wrong);
  assert.equal(w.length, 2);
  assert.match(w[0]!, /expect 227x227 images with 3 channels; dataset.imageSize is 128/);
  assert.match(w[1]!, /other preprocessing than dataset.normalization 'imagenet' \(mean \[0.485, 0.456, 0.406\], scale 255, BGR\)/);
  assert.deepEqual(pretrainedWarnings(parseRunConfig({ ...presets.cub, dataset: { ...presets.cub.dataset, normalization: 'imagenet' } })), []); // no pretrained file
  const rn = parseRunConfig({
    ...presets.cub,
    dataset: { ...presets.cub.dataset, imageSize: 224, normalization: 'imagenet' },
    model: { name: 'resnet50', pretrained: 'r.safetensors' },
  });
  assert.deepEqual(pretrainedWarnings(rn), []);
});
