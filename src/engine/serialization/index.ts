// Files: safetensors tensors, atomic writes, module and optimizer state.
export { writeFileAtomic, removeStaleTempFiles } from './atomic.js';
export { checkRegularFile, readRegularFileSync, describeFileType } from './regular-file.js';
export {
  SafetensorsFile,
  saveSafetensors,
  loadSafetensors,
  serializeSafetensors,
  parseSafetensors,
  safetensorsDType,
  readSafetensorsMetadata,
  MAX_SAFETENSORS_TENSORS,
} from './safetensors.js';
export { saveModule, loadModule, saveOptimizer, loadOptimizer, OPTIMIZER_METADATA_KEY } from './state.js';
export { saveNpy, loadNpy, serializeNpy } from './npy.js';
