// Models: embedding networks (backbone + EmbeddingHead) and pretrained-weight loading.
export { EmbeddingHead, POOLINGS, type Pooling, type EmbeddingHeadOptions } from './head.js';
export { EmbeddingNet, batchNormLayers, batchNormParameterNames, countParameters } from './embedding-net.js';
export { MlpEmbedder, type MlpEmbedderOptions } from './mlp.js';
export { SmallCnn, type SmallCnnOptions } from './small-cnn.js';
export { SmallResNet, SmallResNetBackbone, BasicBlock, type SmallResNetOptions } from './small-resnet.js';
export { ResNet50, ResNet50Backbone, Bottleneck, type ResNet50Options, type ResNet50BackboneOptions } from './resnet50.js';
export { BNInception, BNInceptionBackbone, BN_INCEPTION_MODULES, type BNInceptionOptions, type BNInceptionBackboneOptions } from './bninception.js';
export { loadPretrained, type LoadPretrainedOptions, type LoadPretrainedReport, type NameMapping, type BuiltinMapping } from './pretrained.js';
export { createModel, modelInfo, MODEL_NAMES, type ModelInfo, type ModelName, type ModelOptionsByName } from './registry.js';
