// The model names: the config's `model.name` enum and the CLI's --model help are this list, and the registry
// (`registry.ts`: factory and metadata per model) is keyed by it, so the compiler makes both agree. Its own
// module, with no native code, so the CLI can build its help without loading libtorch.
export const MODEL_NAMES = ['mlp', 'small_cnn', 'small_resnet', 'resnet50', 'bninception'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
