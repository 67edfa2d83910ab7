// Do all ranks hold the same value (config, code version, parameter layout)? Each rank hashes its text; the
// hashes are all-gathered (one small collective), so every rank learns which ranks differ from rank 0 and can
// fail with the same message instead of hanging in a later collective with mismatched shapes.
import { createHash } from 'node:crypto';
import { int64 } from '../engine/creation.js';
import { tidy } from '../engine/scope.js';
import type { ProcessGroup } from './process-group.js';

/** 96 bits of the text's SHA-256 as two int64-safe numbers (48 bits each). */
function hashWords(text: string): number[] {
  const hex = createHash('sha256').update(text).digest('hex');
  return [parseInt(hex.slice(0, 12), 16), parseInt(hex.slice(12, 24), 16)];
}

/** The ranks whose `text` differs from rank 0's (empty when all agree), in rank order. */
export function ranksDifferingFromRank0(group: ProcessGroup, text: string): number[] {
  if (group.worldSize === 1) return [];
  const gathered = tidy(() => group.allGather(int64(hashWords(text))).map((t) => t.toArray()));
  const [a0, b0] = gathered[0]!;
  const out: number[] = [];
  gathered.forEach(([a, b], r) => {
    if (a !== a0 || b !== b0) out.push(r);
  });
  return out;
}
