// The learning-rate schedule of a run config, stepped once per epoch.
import { StepLR, CosineAnnealingLR, ReduceLROnPlateau, type Optimizer, type SchedulerState } from '../engine/optim/index.js';
import type { RunConfig } from './config.js';

export interface EpochSchedule {
  /** Called after each epoch's validation with its MAP@R. */
  step(metric: number): void;
  stateDict(): SchedulerState;
  loadStateDict(s: SchedulerState): void;
}

export function buildSchedule(cfg: RunConfig, optimizer: Optimizer): EpochSchedule | null {
  const s = cfg.schedule;
  switch (s.name) {
    case 'constant':
      return null;
    case 'step': {
      const sch = new StepLR(optimizer, s.stepSize, s.gamma);
      return { step: () => sch.step(), stateDict: () => sch.stateDict(), loadStateDict: (st) => sch.loadStateDict(st) };
    }
    case 'cosine': {
      const sch = new CosineAnnealingLR(optimizer, cfg.training.maxEpochs, { etaMin: s.minLr });
      return { step: () => sch.step(), stateDict: () => sch.stateDict(), loadStateDict: (st) => sch.loadStateDict(st) };
    }
    case 'plateau': {
      const sch = new ReduceLROnPlateau(optimizer, { mode: 'max', factor: s.gamma, patience: s.patience, minLr: s.minLr });
      return { step: (m) => void sch.step(m), stateDict: () => sch.stateDict(), loadStateDict: (st) => sch.loadStateDict(st) };
    }
  }
}
