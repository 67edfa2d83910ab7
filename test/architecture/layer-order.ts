// The layer order of src/: the one table that test/architecture/layers.test.ts enforces and
// docs/ARCHITECTURE.md describes. A module may import its own layer folder and any folder in a strictly
// lower rank; folders that share a rank are peers and may not import each other (that keeps them
// independent, so each can change without the others noticing).

/** Layer ranks, lowest first. Each entry is a top-level folder of src/ (or the root barrel 'index.ts'). */
export const LAYERS: readonly (readonly string[])[] = [
  ['native'], //                                   the N-API addon, typed
  ['engine'], //                                   tensors, autograd, nn, optim, serialization
  ['distributed'], //                              c10d process groups, collectives, the local launcher
  ['data', 'evaluation', 'models', 'losses'], //   datasets; metrics; networks; losses (all on the engine)
  ['miners'], //                                   pair/triplet mining over the losses' distances
  ['ccp'], //                                      the CCP regulariser, proxies and controller
  ['training'], //                                 config, build, the training loop, checkpoints
  ['index', 'report'], //                          vector index over a trained run; run reports
  ['calibrate', 'export'], //                      thresholds over an index; ONNX / web export
  ['serve'], //                                    HTTP server over an index and calibration
  ['cli'], //                                      the command line, on top of everything
  ['index.ts'], //                                 the package's public barrel re-exports every layer
];

/**
 * Layers only some layers may import, even though they are lower: the raw addon is the engine's business, so
 * every native call goes through (and is checked, scoped and freed by) the engine.
 */
export const PRIVATE_LAYERS: ReadonlyMap<string, readonly string[]> = new Map([['native', ['engine', 'distributed']]]);

/**
 * Imports that break the order today, each with why it is tolerated and what removes it. The test fails when
 * an entry no longer occurs, so a fixed violation must be dropped here too (the list only shrinks).
 * Keys are 'importing file -> imported file', both relative to the repository root.
 */
export const KNOWN_VIOLATIONS: ReadonlyMap<string, string> = new Map<string, string>([]);

/** The rank of a layer folder, or undefined for a folder the table does not know. */
export function layerRank(layer: string): number | undefined {
  const rank = LAYERS.findIndex((group) => group.includes(layer));
  return rank < 0 ? undefined : rank;
}
