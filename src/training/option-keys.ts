// The keys `model.options` and `loss.options` accept, per model and per loss, so a misspelt option is an
// error like every other unknown config key (the schema cannot know them: they depend on the name). The
// lists are checked against the option interfaces at compile time: a new option or a new model / loss that
// is not listed here fails the build.
import type { ModelName, ModelOptionsByName } from '../models/registry.js';
import type { LossName, LossOptionsByName } from '../losses/registry.js';

/** Model options the config sets through its own keys or the data decides. */
type ModelOwned = 'embeddingDim' | 'freezeBatchNorm' | 'pooling' | 'inChannels' | 'inputDim';
/** Loss options the trainer supplies (from the data and the model) or that are not config values. */
type LossOwned = 'numClasses' | 'embeddingDim' | 'initialProxies' | 'dtype' | 'device';

/** `keys` typed as exactly the option keys of T less `Owned`: a missing or extra key is a compile error. */
function allKeys<T, Owned extends PropertyKey>() {
  return <const K extends readonly Exclude<keyof T, Owned>[]>(
    ...keys: K & ([Exclude<keyof T, Owned | K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, Owned | K[number]> })
  ): readonly string[] => keys as readonly string[];
}

export const MODEL_OPTION_KEYS: { [K in ModelName]: readonly string[] } = {
  mlp: allKeys<ModelOptionsByName['mlp'], ModelOwned>()('hidden', 'batchNorm', 'dropout'),
  small_cnn: allKeys<ModelOptionsByName['small_cnn'], ModelOwned>()('channels'),
  small_resnet: allKeys<ModelOptionsByName['small_resnet'], ModelOwned>()('channels', 'blocksPerStage'),
  resnet50: allKeys<ModelOptionsByName['resnet50'], ModelOwned>()('widthMultiplier', 'layers'),
  bninception: allKeys<ModelOptionsByName['bninception'], ModelOwned>()('widthMultiplier', 'bnEps'),
};

export const LOSS_OPTION_KEYS: { [K in LossName]: readonly string[] } = {
  contrastive: allKeys<LossOptionsByName['contrastive'], LossOwned>()('posMargin', 'negMargin', 'embeddingNormalization', 'reduction', 'distance'),
  original_contrastive: allKeys<LossOptionsByName['original_contrastive'], LossOwned>()(
    'margin',
    'eps',
    'negativeTerm',
    'embeddingNormalization',
    'reduction',
    'distance',
  ),
  triplet: allKeys<LossOptionsByName['triplet'], LossOwned>()('margin', 'embeddingNormalization', 'reduction', 'path', 'denseLimit', 'distance'),
  multi_similarity: allKeys<LossOptionsByName['multi_similarity'], LossOwned>()('alpha', 'beta', 'lambda', 'embeddingNormalization', 'distance'),
  proxy_anchor: allKeys<LossOptionsByName['proxy_anchor'], LossOwned>()(
    'proxiesPerClass',
    'alpha',
    'delta',
    'embeddingNormalization',
    'proxyLrMultiplier',
    'distance',
    'negativeDivisor',
  ),
  proxy_nca: allKeys<LossOptionsByName['proxy_nca'], LossOwned>()(
    'proxiesPerClass',
    'temperature',
    'delta',
    'embeddingNormalization',
    'proxyLrMultiplier',
    'distance',
  ),
  soft_triple: allKeys<LossOptionsByName['soft_triple'], LossOwned>()(
    'proxiesPerClass',
    'la',
    'gamma',
    'tau',
    'delta',
    'centersPerClass',
    'embeddingNormalization',
    'proxyLrMultiplier',
    'distance',
  ),
  normalized_softmax: allKeys<LossOptionsByName['normalized_softmax'], LossOwned>()('temperature', 'embeddingNormalization', 'proxyLrMultiplier'),
  arcface: allKeys<LossOptionsByName['arcface'], LossOwned>()('margin', 'scale', 'subCenters', 'embeddingNormalization', 'proxyLrMultiplier'),
  cosface: allKeys<LossOptionsByName['cosface'], LossOwned>()('margin', 'scale', 'embeddingNormalization', 'proxyLrMultiplier'),
  subcenter_arcface: allKeys<LossOptionsByName['subcenter_arcface'], LossOwned>()(
    'margin',
    'scale',
    'subCenters',
    'embeddingNormalization',
    'proxyLrMultiplier',
  ),
  ntxent: allKeys<LossOptionsByName['ntxent'], LossOwned>()('temperature', 'distance', 'embeddingNormalization'),
  supcon: allKeys<LossOptionsByName['supcon'], LossOwned>()('temperature', 'distance', 'embeddingNormalization'),
  circle: allKeys<LossOptionsByName['circle'], LossOwned>()('m', 'gamma', 'distance', 'embeddingNormalization'),
};

const OWNED_HINT: Record<string, string> = {
  embeddingDim: 'model.embeddingDim',
  freezeBatchNorm: 'model.freezeBatchNorm',
  pooling: 'model.pooling',
  inChannels: 'dataset.channels',
  inputDim: 'the dataset (image size x channels)',
  numClasses: 'the training split',
  preset: 'loss.preset',
};

function checkKeys(section: string, owner: string, given: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(given).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const why = unknown.map((k) => (OWNED_HINT[k] ? `'${k}' (set by ${OWNED_HINT[k]})` : `'${k}'`));
  throw new Error(`${section}: unknown key(s) ${why.join(', ')} for ${owner}; known: ${known.join(', ') || 'none'}`);
}

/** Throws naming the section and key when model.options holds a key the model does not take. */
export function checkModelOptions(name: ModelName, options: Record<string, unknown>): void {
  checkKeys('model.options', `model '${name}'`, options, MODEL_OPTION_KEYS[name]);
}

/** Throws naming the section and key when loss.options holds a key the (base) loss does not take. */
export function checkLossOptions(base: LossName, options: Record<string, unknown>): void {
  checkKeys('loss.options', `loss '${base}'`, options, LOSS_OPTION_KEYS[base]);
}
