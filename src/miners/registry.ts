// Miners by name, for configs and the CLI: { type: 'batch_hard' | 'semihard' | 'triplet_margin' |
// 'multi_similarity', ...options }.
import { BatchHardMiner, type BatchHardMinerOptions } from './batch_hard.js';
import { TripletMarginMiner, type TripletMarginMinerOptions } from './triplet_margin.js';
import { MultiSimilarityMiner, type MultiSimilarityMinerOptions } from './multi_similarity.js';
import type { Miner } from './base.js';

export const MINER_NAMES = ['batch_hard', 'semihard', 'triplet_margin', 'multi_similarity'] as const;
export type MinerName = (typeof MINER_NAMES)[number];

export type MinerSpec = MinerName | ({ type: MinerName } & Record<string, unknown>);

/** Builds a miner from its name or { type, ...options }; 'semihard' is triplet_margin with typeOfTriplets 'semihard'. */
export function createMiner(spec: MinerSpec | Miner): Miner {
  if (typeof spec === 'object' && spec !== null && typeof (spec as Miner).mine === 'function') return spec as Miner;
  const { type, ...options } = typeof spec === 'string' ? { type: spec } : (spec as { type: MinerName } & Record<string, unknown>);
  switch (type) {
    case 'batch_hard':
      return new BatchHardMiner(options as BatchHardMinerOptions);
    case 'semihard':
      return new TripletMarginMiner({ ...(options as TripletMarginMinerOptions), typeOfTriplets: 'semihard' });
    case 'triplet_margin':
      return new TripletMarginMiner(options as TripletMarginMinerOptions);
    case 'multi_similarity':
      return new MultiSimilarityMiner(options as MultiSimilarityMinerOptions);
    default:
      throw new Error(`miner: unknown type '${String(type)}'; known: ${MINER_NAMES.join(', ')}`);
  }
}
