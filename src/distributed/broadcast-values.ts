// Decisions taken once, on rank 0, and followed by every rank (the validation metric, CCP's projection
// decision): rank 0's numbers, broadcast in one float64 collective. Every rank passes as many numbers.
import { tensor } from '../engine/creation.js';
import { tidy } from '../engine/scope.js';
import type { ProcessGroup } from './process-group.js';

export function broadcastNumbers(group: ProcessGroup, values: readonly number[]): number[] {
  if (group.worldSize === 1) return [...values];
  return tidy(() => group.broadcast(tensor(Float64Array.from(values), [values.length], { dtype: 'float64' }), 0).toArray());
}
