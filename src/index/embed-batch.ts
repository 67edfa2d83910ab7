// Images per forward pass when a dataset is embedded (its own file so the CLI can show the default without
// loading the engine). 32 keeps a batch of 224x224 RGB images under 20 MB while amortising the per-call cost.
export const DEFAULT_EMBED_BATCH = 32;
