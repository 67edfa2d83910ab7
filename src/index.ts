// ccp-dml: the library API. Layers: engine (tensors, autograd, nn, optim, files), losses, CCP, data, models,
// training, evaluation, run reports, and the product layers: index, calibrate, serve, exporter (ONNX, browser demo).
export * from './engine/index.js';
export * as nn from './engine/nn/index.js';
export * as optim from './engine/optim/index.js';
export * as io from './engine/serialization/index.js';
export * as losses from './losses/index.js';
export * as miners from './miners/index.js';
export * as ccp from './ccp/index.js';
export * as data from './data/index.js';
export * as models from './models/index.js';
export * as evaluation from './evaluation/index.js';
export * as training from './training/index.js';
export * as index from './index/index.js';
export * as calibrate from './calibrate/index.js';
export * as serve from './serve/index.js';
export * as exporter from './export/index.js';
export * as report from './report/index.js';
export * as distributed from './distributed/index.js';
