// Data layer public surface: datasets and sources, splits/folds, samplers, preprocessing, loaders.
export * from './errors.js';
export * from './random.js';
export * from './dataset.js';
export { openZip, closeAllZips, ZipArchive } from './zip.js';
export * from './splits.js';
export * from './samplers.js';
export * from './transforms.js';
export * from './loader.js';
export * from './sources/mnist.js';
export * from './sources/omniglot.js';
export * from './sources/folder.js';
export * from './sources/csv.js';
export * from './sources/cub.js';
export * from './sources/cars.js';
export * from './sources/sop.js';
export * from './sources/inshop.js';
export { parseMat, readMatFile, matString, matScalar, type MatArray } from './sources/matfile.js';
export type { FileSourceOptions } from './sources/common.js';
