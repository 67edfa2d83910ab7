// How an index stores its graph vectors (its own file so the CLI can list the choices without loading usearch).
export const QUANTIZATIONS = ['f32', 'f16', 'i8'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];
