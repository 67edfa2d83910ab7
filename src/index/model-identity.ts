// Which model produced a set of embeddings: a hash of the run's weights plus everything that changes the
// vectors they give (model config, preprocessing, embedding normalisation). An index, a calibration and an
// exported gallery record it, so vectors of one model are never compared with another's.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunConfig } from '../training/config.js';
import { transformFor } from '../training/data-setup.js';

export interface ModelIdentity {
  /** sha256 (hex) of the weights file bytes and the canonical JSON of the fields below. */
  hash: string;
  /** Model name from the config ('small_cnn', ...). */
  name: string;
  /** Embedding size D. */
  dim: number;
  /** Row normalisation applied to the embeddings before they are compared. */
  normalization: RunConfig['evaluation']['normalization'];
  /** Where the run was when the identity was taken (informational; the hash is what is compared). */
  run: string;
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Identity of a run's model (`<run>/model.safetensors` unless `weights` names another file). */
export function modelIdentity(runDir: string, config: RunConfig, weights?: string): ModelIdentity {
  const file = weights ?? join(runDir, 'model.safetensors');
  if (!existsSync(file)) throw new Error(`no model weights at ${file}`);
  const { pretrained: _pretrained, ...model } = config.model;
  const described = { model, transform: transformFor(config.dataset), normalization: config.evaluation.normalization };
  const h = createHash('sha256');
  h.update(readFileSync(file));
  h.update(canonicalJson(described));
  return {
    hash: h.digest('hex'),
    name: config.model.name,
    dim: config.model.embeddingDim,
    normalization: config.evaluation.normalization,
    run: resolve(runDir),
  };
}

/** Throws a message naming both models when `expected` (what a file was made with) differs from `actual`. */
export function checkSameModel(what: string, expected: Pick<ModelIdentity, 'hash' | 'run'>, actual: Pick<ModelIdentity, 'hash' | 'run'>): void {
  if (expected.hash === actual.hash) return;
  throw new Error(
    `${what} was built with another model (${expected.hash.slice(0, 12)}, run ${expected.run}) than run ${actual.run} ` +
      `(${actual.hash.slice(0, 12)}): its vectors are not comparable; rebuild it with this run, or use the run it was built with`,
  );
}
