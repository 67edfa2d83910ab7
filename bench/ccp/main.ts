// npm run bench:ccp -- [options]
//
// The accuracy study on Omniglot (background alphabets train, evaluation alphabets test, MLRC fold 0 for
// validation): C1, C2, MS, Triplet with and without CCP, XBM on C2, ProxyAnchor, ProxyNCA++, SoftTriple, all with
// the same small CNN, embedding size, 8x4 batches, Adam and step budget. Each method's LR is picked on the
// validation classes (one seed, shorter budget); then the seeds run at that LR and are evaluated on the test
// classes. Writes <out>/results.md, <out>/results.json and <out>/validation-curves.svg.
//
// Options (defaults = the full study, sized to finish within 2 hours on the project's 2-core machine):
//   --budget N | Ns        training steps (N) or seconds (Ns) per run                      [full: 3000, quick: 400]
//   --seeds N | a,b,c      number of seeds (0..N-1) or an explicit list                     [full: 3,   quick: 1]
//   --methods all | ids    e.g. c2,c2-ccp,proxy-anchor (ids: c1 c1-ccp c2 c2-xbm c2-ccp ms ms-ccp
//                          triplet triplet-ccp proxy-anchor proxy-nca soft-triple)        [full: all, quick: c2,c2-ccp,proxy-anchor]
//   --quick                the same pipeline with fewer methods, 1 seed, fewer steps, a 2-point LR grid (~10 min)
//   --out DIR              output folder                                                   [results/ccp, quick: results/ccp/quick]
//   --lrs a,b,c            LR grid (one value: no search)                                  [3e-4,1e-3,3e-3; quick: 3e-4,1e-3]
//   --tune-fraction F      LR-search run budget as a fraction of --budget                  [1/3]
//   --steps-per-epoch N    validation interval (steps)                                     [50]
//   --max-val N            validation images per epoch (random, fixed per seed)           [1000]
//   --patience N           CCP patience: epochs without a validation gain that end a problem [2]
//   --lrs 1e-5             a single LR = no search (any positive LR; the paper's is 1e-5)
//   --pretrained mnist|none|FILE  backbone init: 'mnist' = pretrained on MNIST digit classification by
//                          pretrain-mnist.ts (the paper's ImageNet-pretrained backbone, scaled down: other data,
//                          head fresh); 'none' = from scratch; FILE = backbone weights (safetensors), e.g. from
//                          `ccp-dml pretrain`                                                 [mnist]
//   --early-stop N         global early stopping: end a run after N epochs without a validation gain (the
//                          paper: 60); the budget is then a cap                               [off: fixed budget]
//   --freeze-bn            freeze the backbone's BatchNorm (statistics and affine), as the paper's BN-Inception
//   --ccp k=v,...          CCP options of the CCP methods, e.g. batchWeight=0,laggedMetric=true (names: src/ccp/options.ts)
//   --pretrain-epochs F    MNIST pretraining passes (fractions allowed)                    [2]
//   --max-classes N        keep only the first N background / evaluation classes (checks)
//   --channels a,b,c       small CNN widths                                                [16,32,64]
//   --image-size N         [28]      --dim N   embedding size [64]
//   --threads N            libtorch intra-op threads [1]: on the shared, oversubscribed 2-core machine two threads
//                          made small ops 5-10x slower (threads wait for each other), one thread was faster
//   --proxy-lr-mult F      LR multiplier of the proxy baselines' proxies    [the losses' own: x100, as the code]
//   --precision fp32|bf16|auto  backbone precision (model.precision)                 [the config's default: fp32]
//   --loss-option L.k=v,...  a base loss's own option for every method on it, e.g. original_contrastive.reduction=active
//                          (C1's proxy-term averaging; default: each loss's own, C1 'anchors' = the reference code)
//   --fixed-lrs id=lr,...  per-method LR without an LR search, e.g. c2=1e-3,ms=3e-3 (methods not named are searched)
//   --runs DIR             run folders (per-run records make an interrupted study resumable) [results/ccp/runs/<mode>]
//   --fresh                ignore saved per-run records
//   --omniglot DIR         folder of the Omniglot zips (default: ../shared/data/omniglot)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolveCcpOptions, type CcpOptions } from '../../src/ccp/options.js';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectMethods, STUDY_METHODS, type StudyMethod } from './methods.js';
import { runStudy, type Budget, type StudySettings, type StudyResult } from './study.js';
import { jsonReport, markdownReport, predictSeconds, summarize, timingModel, markdownTable } from './report.js';
import { validationPlotSvg } from './plot.js';
import type { OmniglotStudyData } from './omniglot-data.js';
import { measureStepCosts } from './cost.js';
import { parseLossOptions } from './loss-options.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The full study's settings. */
export function fullSettings(): StudySettings {
  return {
    mode: 'full',
    methods: [...STUDY_METHODS],
    seeds: [0, 1, 2],
    budget: { kind: 'steps', value: 3000 },
    tuneFraction: 1 / 3,
    lrGrid: [3e-4, 1e-3, 3e-3],
    tuneSeed: 100,
    stepsPerEpoch: 50,
    imageSize: 28,
    channels: [16, 32, 64],
    embeddingDim: 64,
    maxValidationSamples: 1000,
    lossPreset: 'code',
    ccp: { proxiesPerClass: 4, poolSize: 7, patience: 2, lambda: 2e-4 },
    xbm: { memoryBatches: 25, startFraction: 0.2 },
    pretrained: 'mnist',
    threads: 1,
  };
}

/** --quick: same pipeline, 3 methods, 1 seed, 400 steps, a 2-point LR grid. */
export function quickSettings(): StudySettings {
  return {
    ...fullSettings(),
    mode: 'quick',
    methods: selectMethods('c2,c2-ccp,proxy-anchor'),
    seeds: [0],
    budget: { kind: 'steps', value: 400 },
    lrGrid: [3e-4, 1e-3],
  };
}

function parseBudget(v: string): Budget {
  const m = /^(\d+(?:\.\d+)?)(s?)$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw new Error(`--budget: expected steps (e.g. 500) or seconds (e.g. 120s), got '${v}'`);
  return m[2] ? { kind: 'seconds', value: Number(m[1]) } : { kind: 'steps', value: Math.round(Number(m[1])) };
}

function parseList(flag: string, v: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new Error(`${flag}: expected comma-separated numbers, got '${v}'`);
  return xs;
}

/** `c2=1e-3,ms=3e-3` -> { c2: 1e-3, ms: 3e-3 }; method ids are checked against the study's. */
function parseFixedLrs(v: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of v.split(',')) {
    const [id, lr] = part.split('=').map((x) => x.trim());
    const n = Number(lr);
    if (!id || !(n > 0)) throw new Error(`--fixed-lrs: expected id=lr pairs such as c2=1e-3,ms=3e-3, got '${part}'`);
    let m: StudyMethod;
    try {
      m = selectMethods(id)[0]!;
    } catch (e) {
      throw new Error(`--fixed-lrs: ${(e as Error).message.replace(/^--methods: /, '')}`);
    }
    out[m.id] = n;
  }
  return out;
}

/** `--pretrained mnist | none | FILE`: a file must exist (a backbone from `ccp-dml pretrain`, or any safetensors backbone). */
export function parsePretrained(v: string): StudySettings['pretrained'] {
  if (v === 'none' || v === 'mnist') return v;
  if (!existsSync(v)) throw new Error(`--pretrained: expected 'none', 'mnist' or an existing backbone weights file, got '${v}' (no such file)`);
  return { file: resolve(v) };
}

/** `--ccp batchWeight=0,laggedMetric=true`: CCP options of the CCP methods, checked by the library's CCP schema. */
export function parseCcpOverrides(v: string): Partial<CcpOptions> {
  const out: Record<string, unknown> = {};
  for (const part of v.split(',')) {
    const [key, raw] = part.split('=').map((x) => x.trim());
    if (!key || raw === undefined || raw === '') throw new Error(`--ccp: expected key=value pairs such as batchWeight=0,laggedMetric=true, got '${part}'`);
    // Booleans and numbers as such; anything else stays a string (e.g. poolPreprocessing=test) for the schema to check.
    out[key] = raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  try {
    resolveCcpOptions(out);
  } catch (e) {
    throw new Error(`--ccp: ${(e as Error).message.replace(/^ccp: /, '')}`);
  }
  return out as Partial<CcpOptions>;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got '${v}'`);
  return n;
}

/** The value after flag `flag` (at `at` in argv), or an error naming the flag. */
export function flagValue(argv: readonly string[], at: number, flag: string): string {
  const v = argv[at];
  if (v === undefined) throw new Error(`${flag}: missing value`);
  return v;
}

export interface CliOptions {
  settings: StudySettings;
  out: string;
  runsDir: string;
  fresh: boolean;
  omniglotRoot?: string;
}

export function parseArgs(argv: string[]): CliOptions {
  const quick = argv.includes('--quick');
  const s = quick ? quickSettings() : fullSettings();
  let out: string | undefined;
  let runsDir: string | undefined;
  let fresh = false;
  let omniglotRoot: string | undefined;
  let custom = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => flagValue(argv, ++i, a);
    switch (a) {
      case '--quick':
        break;
      case '--fresh':
        fresh = true;
        break;
      case '--budget':
        s.budget = parseBudget(value());
        custom = true;
        break;
      case '--seeds': {
        const v = value();
        s.seeds = v.includes(',') ? parseList(a, v) : Array.from({ length: positiveInt(a, v) }, (_, k) => k);
        custom = true;
        break;
      }
      case '--methods':
        s.methods = selectMethods(value());
        custom = true;
        break;
      case '--out':
        out = value();
        break;
      case '--runs':
        runsDir = value();
        break;
      case '--lrs':
        s.lrGrid = parseList(a, value());
        custom = true;
        break;
      case '--tune-fraction': {
        const f = Number(value());
        if (!(f > 0 && f <= 1)) throw new Error(`--tune-fraction: expected a number in (0, 1], got ${f}`);
        s.tuneFraction = f;
        custom = true;
        break;
      }
      case '--steps-per-epoch':
        s.stepsPerEpoch = positiveInt(a, value());
        custom = true;
        break;
      case '--max-val':
        s.maxValidationSamples = positiveInt(a, value());
        custom = true;
        break;
      case '--patience':
        s.ccp = { ...s.ccp, patience: positiveInt(a, value()) };
        custom = true;
        break;
      case '--max-classes':
        s.maxClasses = positiveInt(a, value());
        custom = true;
        break;
      case '--channels':
        s.channels = parseList(a, value());
        custom = true;
        break;
      case '--image-size':
        s.imageSize = positiveInt(a, value());
        custom = true;
        break;
      case '--dim':
        s.embeddingDim = positiveInt(a, value());
        custom = true;
        break;
      case '--proxy-lr-mult': {
        const f = Number(value());
        if (!(f > 0)) throw new Error(`--proxy-lr-mult: expected a positive number, got ${f}`);
        s.proxyLrMultiplier = f;
        custom = true;
        break;
      }
      case '--pretrained':
        s.pretrained = parsePretrained(value());
        custom = true;
        break;
      case '--early-stop':
        s.earlyStopPatience = positiveInt(a, value());
        custom = true;
        break;
      case '--freeze-bn':
        s.freezeBatchNorm = true;
        custom = true;
        break;
      case '--ccp':
        s.ccp = { ...s.ccp, ...parseCcpOverrides(value()) };
        custom = true;
        break;
      case '--pretrain-epochs': {
        const f = Number(value());
        if (!(f > 0)) throw new Error(`--pretrain-epochs: expected a positive number, got ${f}`);
        s.pretrainEpochs = f;
        custom = true;
        break;
      }
      case '--threads':
        s.threads = positiveInt(a, value());
        break;
      case '--precision': {
        const v = value();
        if (v !== 'fp32' && v !== 'bf16' && v !== 'auto') throw new Error(`--precision: expected 'fp32', 'bf16' or 'auto', got '${v}'`);
        s.precision = v;
        custom = true;
        break;
      }
      case '--loss-option':
        s.lossOptions = parseLossOptions(value(), s.lossOptions);
        custom = true;
        break;
      case '--fixed-lrs':
        s.fixedLrs = parseFixedLrs(value());
        custom = true;
        break;
      case '--omniglot':
        omniglotRoot = value();
        break;
      default:
        throw new Error(`unknown option '${a}' (see the header of bench/ccp/main.ts)`);
    }
  }
  if (custom && s.mode === 'full') s.mode = 'custom';
  const outDir = out ?? join(REPO_ROOT, 'results', 'ccp', ...(s.mode === 'quick' ? ['quick'] : s.mode === 'custom' ? ['custom'] : []));
  return { settings: s, out: outDir, runsDir: runsDir ?? join(REPO_ROOT, 'results', 'ccp', 'runs', s.mode), fresh, omniglotRoot };
}

/** Writes results.md, results.json and validation-curves.svg; returns their paths. */
export async function writeStudyOutputs(result: StudyResult, out: string): Promise<{ markdown: string; json: string; plot: string }> {
  mkdirSync(out, { recursive: true });
  const plot = join(out, 'validation-curves.svg');
  writeFileSync(plot, await validationPlotSvg(result.runs, `Omniglot validation MAP@R (${result.settings.mode} mode)`));
  // The full study's duration at this run's speed (what --quick is for: sizing the full budget). Methods the run
  // did not train are scaled by their measured relative step cost.
  const full = fullSettings();
  const t = timingModel(result.runs);
  const stepCosts = measureStepCosts(result.settings, full.methods, result.data.trainClasses);
  const measuredOn = [...new Set(result.runs.map((r) => r.method))];
  const seconds = predictSeconds(full, t, { stepCosts, measuredOn });
  const costText = full.methods.map((m) => `${m.label} ${(1000 * stepCosts[m.id]!).toFixed(0)}`).join(', ');
  const estimate = {
    settings:
      `${t.secondsPerStep.toFixed(3)} s per training step on average, ${t.testRunOverhead.toFixed(0)} s per test run and ${t.tuneRunOverhead.toFixed(0)} s per LR-search run outside training; ` +
      `full mode = ${full.methods.length} methods × (${full.lrGrid.length} LR-search runs of ${Math.ceil(Math.round(full.budget.value * full.tuneFraction) / full.stepsPerEpoch) * full.stepsPerEpoch} steps + ${full.seeds.length} seeds × ${full.budget.value} steps), ` +
      `each method's step time scaled by its measured cost per step relative to the methods run here (ms per bare step: ${costText})`,
    seconds,
  };
  const markdown = join(out, 'results.md');
  writeFileSync(markdown, markdownReport(result, { plotFile: 'validation-curves.svg', estimate }));
  const json = join(out, 'results.json');
  writeFileSync(json, jsonReport(result, { fullStudyEstimateSeconds: estimate.seconds, stepCostsSeconds: stepCosts }));
  return { markdown, json, plot };
}

export async function main(
  argv: string[],
  opts: { log?: (line: string) => void; data?: OmniglotStudyData } = {},
): Promise<{ result: StudyResult; files: { markdown: string; json: string; plot: string } }> {
  const o = parseArgs(argv);
  const log = opts.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const s = o.settings;
  log(
    `CCP study (${s.mode}): ${s.methods.map((m) => m.label).join(', ')}; seeds ${s.seeds.join(',')}; ` +
      `${s.budget.kind === 'steps' ? `${s.budget.value} steps` : `${s.budget.value} s`} per run; LR grid ${s.lrGrid.join(', ')}; out ${o.out}`,
  );
  const result = await runStudy({ settings: s, runsDir: o.runsDir, fresh: o.fresh, omniglotRoot: o.omniglotRoot, log, data: opts.data });
  const files = await writeStudyOutputs(result, o.out);
  log('\n' + markdownTable(summarize(result)));
  log(`\nwrote ${files.markdown}, ${files.json}, ${files.plot} (${(result.wallSeconds / 60).toFixed(1)} min)`);
  return { result, files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`bench:ccp: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
