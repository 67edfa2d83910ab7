// The start-up check of a distributed run: every rank must run the same config with the same code. Hashes are
// all-gathered; rank 0 publishes its config and version in the store so a differing rank can say what differs.
import { DistributedError } from './errors.js';
import type { ProcessGroup } from './process-group.js';
import { ranksDifferingFromRank0 } from './rank-agreement.js';
import { codeVersion } from './code-version.js';

export interface RunIdentity {
  /** The resolved run config (JSON-serialisable), without keys that may differ per rank (threads). */
  config: unknown;
  /** Default: codeVersion() (package version and git commit). */
  codeVersion?: string;
}

/** JSON with object keys sorted, so equal configs hash equal whatever order their keys were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(value));
  return out;
}

/** The config keys whose values differ, as "key (rank 0: a, here: b)". */
export function configDifferences(rank0: unknown, mine: unknown): string[] {
  const a = flatten(rank0);
  const b = flatten(mine);
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter((k) => a.get(k) !== b.get(k))
    .sort()
    .map((k) => `${k} (rank 0: ${a.get(k) ?? 'unset'}, here: ${b.get(k) ?? 'unset'})`);
}

/** Throws the same DistributedError on every rank when some rank's config or code version differs from rank 0's. */
export function checkSameRun(group: ProcessGroup, id: RunIdentity): void {
  const version = id.codeVersion ?? codeVersion();
  const config = canonicalJson(id.config);
  if (group.rank === 0) {
    group.store.set('ccp-dml/run-check/version', version);
    group.store.set('ccp-dml/run-check/config', config);
  }
  const codeDiffers = ranksDifferingFromRank0(group, version);
  const configDiffers = ranksDifferingFromRank0(group, config);
  if (codeDiffers.length === 0 && configDiffers.length === 0) return;
  const parts: string[] = [];
  if (codeDiffers.length) {
    const detail = codeDiffers.includes(group.rank) ? ` (rank 0 runs ${group.store.get('ccp-dml/run-check/version')}, this rank ${version})` : '';
    parts.push(`the code version of rank(s) ${codeDiffers.join(', ')} differs from rank 0's${detail}`);
  }
  if (configDiffers.length) {
    const detail = configDiffers.includes(group.rank)
      ? `: ${configDifferences(JSON.parse(group.store.get('ccp-dml/run-check/config')), JSON.parse(config)).join(', ')}`
      : '';
    parts.push(`the config of rank(s) ${configDiffers.join(', ')} differs from rank 0's${detail}`);
  }
  throw new DistributedError(
    `distributed start-up check failed on rank ${group.rank} of ${group.worldSize}: ${parts.join('; ')}. ` +
      'Start every rank with the same command, config files and ccp-dml install',
    'run-check',
    group.rank,
  );
}
