// The sweep's job list: every (regime or ablation variant, method, seed) test run, with its settings, LR and run
// folder, in the order the sweep runs them (seed by seed, so that an interrupted sweep has every cell's first seed
// before any cell's third). A job's run folder holds its study-record.json once done (study.ts), which is what
// makes the sweep resumable and what the report reads.
import { join } from 'node:path';
import { resolveCcpOptions } from '../../src/ccp/options.js';
import { selectMethods, type StudyMethod } from './methods.js';
import { ABLATION_METHOD, ABLATION_REGIMES, ABLATION_VARIANTS, regimes, type AblationVariant, type Regime } from './regimes.js';
import { mnistBackboneFile, type StudySettings } from './study.js';

export interface SweepJob {
  /** 'a', 'c', ... or 'ablation-a/batch0'. */
  block: string;
  regime: Regime;
  variant?: AblationVariant;
  method: StudyMethod;
  seed: number;
  lr: number;
  settings: StudySettings;
  /** Folder passed to runOne (the run folder is <runsDir>/<method id>/<run name>). */
  runsDir: string;
  /** Why the job cannot run in this checkout (a CCP option this library does not have yet); undefined = runnable. */
  blocked?: string;
}

/** The settings of a regime, with the MNIST backbone file set where the regime is pretrained. */
export function regimeSettings(r: Regime, root: string, seeds: number[]): StudySettings {
  const s: StudySettings = { ...r.settings, seeds, ccp: { ...r.settings.ccp } };
  if (s.pretrained === 'mnist') s.pretrainedFile = mnistBackboneFile(s, root);
  return s;
}

function blockedBy(variant: AblationVariant | undefined): string | undefined {
  if (!variant) return undefined;
  try {
    resolveCcpOptions(variant.ccp);
    return undefined;
  } catch (e) {
    return `needs a CCP option this checkout lacks (${(e as Error).message})`;
  }
}

export interface JobFilter {
  /** Regime ids to run ('a', 'a0', 'b', 'c') and/or 'ablation'; undefined = all. */
  only?: string[];
  seeds: number[];
}

function regimeJobs(r: Regime, root: string, seeds: number[]): SweepJob[][] {
  const settings = regimeSettings(r, root, seeds);
  return seeds.map((seed) =>
    settings.methods.map((method) => ({ block: r.id, regime: r, method, seed, lr: r.lrs[method.id]!, settings, runsDir: join(root, r.id) })),
  );
}

function ablationJobs(r: Regime, root: string, seeds: number[]): SweepJob[][] {
  const method = selectMethods(ABLATION_METHOD)[0]!;
  const base = regimeSettings(r, root, seeds);
  return seeds.map((seed) =>
    ABLATION_VARIANTS.map((variant) => ({
      block: `ablation-${r.id}/${variant.id}`,
      regime: r,
      variant,
      method,
      seed,
      lr: r.lrs[method.id]!,
      settings: { ...base, ...variant.settings, methods: [method], ccp: { ...base.ccp, ...variant.ccp } },
      runsDir: join(root, `ablation-${r.id}`, variant.id),
      blocked: blockedBy(variant),
    })),
  );
}

/**
 * Every job, in run order: for each seed, regime (c), the ablation, then regime (b) (the long one last, so that a
 * session's share of the sweep fills the cheaper cells first); (a) and (a0) come first and are normally imported.
 */
export function sweepJobs(root: string, f: JobFilter): SweepJob[] {
  const all = regimes();
  const wanted = (id: string) => !f.only || f.only.includes(id);
  const byId = (id: string) => all.find((r) => r.id === id)!;
  const blocks: SweepJob[][][] = [];
  for (const id of ['a', 'a0', 'c']) if (wanted(id)) blocks.push(regimeJobs(byId(id), root, f.seeds));
  if (wanted('ablation')) for (const id of ABLATION_REGIMES) blocks.push(ablationJobs(byId(id), root, f.seeds));
  if (wanted('b')) blocks.push(regimeJobs(byId('b'), root, f.seeds));
  const jobs: SweepJob[] = [];
  for (let k = 0; k < f.seeds.length; k++) for (const b of blocks) jobs.push(...b[k]!);
  return jobs;
}
