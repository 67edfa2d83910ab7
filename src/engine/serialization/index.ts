// Files: safetensors tensors, atomic writes, module and optimizer state.
export { writeFileAtomic } from './atomic.js';
export { SafetensorsFile, saveSafetensors, loadSafetensors, serializeSafetensors, parseSafetensors, safetensorsDType } from './safetensors.js';
export { saveModule, loadModule, saveOptimizer, loadOptimizer, OPTIMIZER_METADATA_KEY } from './state.js';
export { saveNpy, loadNpy, serializeNpy } from './npy.js';
