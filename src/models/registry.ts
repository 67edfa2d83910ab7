// createModel(name, options): the models by the names used in configs and on the CLI.
import { MlpEmbedder, type MlpEmbedderOptions } from './mlp.js';
import { SmallCnn, type SmallCnnOptions } from './small-cnn.js';
import { SmallResNet, type SmallResNetOptions } from './small-resnet.js';
import { ResNet50, type ResNet50Options } from './resnet50.js';
import { BNInception, type BNInceptionOptions } from './bninception.js';
import type { EmbeddingNet } from './embedding-net.js';

export interface ModelOptionsByName {
  mlp: MlpEmbedderOptions;
  small_cnn: SmallCnnOptions;
  small_resnet: SmallResNetOptions;
  resnet50: ResNet50Options;
  bninception: BNInceptionOptions;
}

export type ModelName = keyof ModelOptionsByName;

export const MODEL_NAMES: readonly ModelName[] = ['mlp', 'small_cnn', 'small_resnet', 'resnet50', 'bninception'];

const FACTORIES: { [K in ModelName]: (o: ModelOptionsByName[K]) => EmbeddingNet } = {
  mlp: (o) => new MlpEmbedder(o),
  small_cnn: (o) => new SmallCnn(o),
  small_resnet: (o) => new SmallResNet(o),
  resnet50: (o) => new ResNet50(o),
  bninception: (o) => new BNInception(o),
};

/** Builds a model by name ('mlp' needs options.inputDim). Unknown names throw, listing the known ones. */
export function createModel<K extends ModelName>(name: K, options?: ModelOptionsByName[K]): EmbeddingNet;
export function createModel(name: string, options?: Record<string, unknown>): EmbeddingNet;
export function createModel(name: string, options: Record<string, unknown> = {}): EmbeddingNet {
  const f = (FACTORIES as Record<string, (o: unknown) => EmbeddingNet>)[name];
  if (!f) throw new Error(`createModel: unknown model '${name}' (known: ${MODEL_NAMES.join(', ')})`);
  if (name === 'mlp' && options.inputDim === undefined) throw new Error(`createModel('mlp'): options.inputDim is required (values per sample, e.g. 784 for 28x28x1)`);
  return f(options);
}
