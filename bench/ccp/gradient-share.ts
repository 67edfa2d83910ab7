// npm run bench:ccp-grad -- [options]
//
// Which term of the CCP objective drives the step: C1-CCP (reference reduction 'anchors' and the averaged
// 'active'), and C2-CCP, each trained on Omniglot with the accuracy study's settings (bench/ccp/main.ts: small CNN
// pretrained on MNIST, 8x4 batches, Adam, K 4, b 7, patience 2, clipping 10 / 10) at the study's chosen LR, with
// GradientShareCallback measuring every n-th step the gradient norm of the in-batch term, the proxy term, the
// proximal regulariser and the weight decay on the network and on the proxies. Prints the median shares per
// training phase and writes <out>/gradient-share.json and .md.
//
// Options:
//   --steps N        training steps per run                                   [1000]
//   --every N        measure every N-th step                                  [10]
//   --seed N         seed                                                     [0]
//   --variants ids   some of c1-ccp, c1-ccp-active, c2-ccp                    [all three]
//   --lr x           one LR for every variant             [the study's: C1-CCP 1e-3, C2-CCP 1e-3]
//   --pretrain-epochs F  MNIST pretraining passes of the backbone (as bench:ccp) [2]
//   --max-classes N  keep only the first N background / evaluation classes (checks)
//   --out DIR        [results/ccp]    --runs DIR  [results/ccp/runs/gradient-share]
//   --threads N      [1]              --omniglot DIR  [../shared/data/omniglot]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../../src/training/trainer.js';
import { GradientShareCallback } from '../../src/training/hooks/gradient-share.js';
import { fullSettings, REPO_ROOT } from './main.js';
import { selectMethods } from './methods.js';
import { formatTable } from '../common/index.js';
import { runConfig, type StudySettings } from './study.js';
import { loadOmniglotStudyData, studyRunData } from './omniglot-data.js';
import { pretrainMnistBackbone, DEFAULT_PRETRAIN_EPOCHS } from './pretrain-mnist.js';
import { markdownShareTable, markdownTable, summarizeVariant, terminalTable, pairsTable, type VariantRun } from './gradient-share-report.js';
import { activePairsProbe, type ActivePairsSample } from './gradient-share-pairs.js';

interface Variant {
  id: string;
  label: string;
  method: string;
  lossOptions?: Record<string, Record<string, unknown>>;
  /** The accuracy study's LR for the method (results/ccp/results.json, LR search on the validation classes). */
  lr: number;
}

export const VARIANTS: readonly Variant[] = [
  { id: 'c1-ccp', label: "C1-CCP, reduction 'anchors' (reference)", method: 'c1-ccp', lr: 1e-3 },
  { id: 'c1-ccp-active', label: "C1-CCP, reduction 'active'", method: 'c1-ccp', lossOptions: { original_contrastive: { reduction: 'active' } }, lr: 1e-3 },
  { id: 'c2-ccp', label: 'C2-CCP', method: 'c2-ccp', lr: 1e-3 },
];

export interface GradShareArgs {
  steps: number;
  every: number;
  seed: number;
  variants: Variant[];
  lr?: number;
  maxClasses?: number;
  pretrainEpochs: number;
  out: string;
  runsDir: string;
  threads: number;
  omniglotRoot?: string;
}

export function parseGradShareArgs(argv: string[]): GradShareArgs {
  const a: GradShareArgs = {
    steps: 1000,
    every: 10,
    seed: 0,
    variants: [...VARIANTS],
    pretrainEpochs: DEFAULT_PRETRAIN_EPOCHS,
    out: join(REPO_ROOT, 'results', 'ccp'),
    runsDir: '',
    threads: 1,
  };
  const int = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag}: missing value`);
    if (flag === '--steps') a.steps = int(flag, v, 1);
    else if (flag === '--every') a.every = int(flag, v, 1);
    else if (flag === '--seed') a.seed = int(flag, v, 0);
    else if (flag === '--threads') a.threads = int(flag, v, 1);
    else if (flag === '--max-classes') a.maxClasses = int(flag, v, 2);
    else if (flag === '--out') a.out = resolve(v);
    else if (flag === '--pretrain-epochs') {
      a.pretrainEpochs = Number(v);
      if (!(a.pretrainEpochs > 0)) throw new Error(`--pretrain-epochs: expected a positive number, got '${v}'`);
    } else if (flag === '--runs') a.runsDir = resolve(v);
    else if (flag === '--omniglot') a.omniglotRoot = v;
    else if (flag === '--lr') {
      a.lr = Number(v);
      if (!(a.lr > 0)) throw new Error(`--lr: expected a positive number, got '${v}'`);
    } else if (flag === '--variants') a.variants = v.split(',').map((id) => VARIANTS.find((x) => x.id === id.trim()) ?? unknownVariant(id));
    else throw new Error(`unknown option '${flag}' (see the header of bench/ccp/gradient-share.ts)`);
  }
  if (!a.runsDir) a.runsDir = join(REPO_ROOT, 'results', 'ccp', 'runs', 'gradient-share');
  return a;
}

function unknownVariant(id: string): never {
  throw new Error(`--variants: unknown variant '${id}' (expected some of ${VARIANTS.map((v) => v.id).join(', ')})`);
}

/** The study's settings for these runs: one seed, a step budget, the MNIST-pretrained backbone. */
function settingsFor(a: GradShareArgs, v: Variant, backbone: string): StudySettings {
  const s = fullSettings();
  return {
    ...s,
    mode: 'gradient-share',
    budget: { kind: 'steps', value: a.steps },
    threads: a.threads,
    maxClasses: a.maxClasses,
    pretrainedFile: backbone,
    lossOptions: v.lossOptions,
  };
}

export async function gradShareMain(argv: string[], log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {
  const a = parseGradShareArgs(argv);
  const base = fullSettings();
  mkdirSync(a.runsDir, { recursive: true });
  const root = join(a.runsDir, '..');
  const data = await loadOmniglotStudyData({
    root: a.omniglotRoot,
    size: base.imageSize,
    cacheFile: join(root, `omniglot-${base.imageSize}px${a.maxClasses ? `-${a.maxClasses}cls` : ''}.u8`),
    maxClasses: a.maxClasses,
  });
  // The study's backbone file (bench/ccp/study.ts names it the same way), so both share one pretraining.
  const suffix = a.pretrainEpochs === DEFAULT_PRETRAIN_EPOCHS ? '' : `-e${a.pretrainEpochs}`;
  const backbone = resolve(join(root, `mnist-backbone-${base.channels.join('-')}${suffix}.safetensors`));
  await pretrainMnistBackbone({ out: backbone, channels: base.channels, epochs: a.pretrainEpochs, threads: a.threads, log });
  const runData = studyRunData(data, { maxClasses: a.maxClasses });
  const runs: VariantRun[] = [];
  let clipNorm: number | null = null;
  for (const v of a.variants) {
    const s = settingsFor(a, v, backbone);
    const m = selectMethods(v.method)[0]!;
    const lr = a.lr ?? v.lr;
    const cfg = runConfig(s, m, a.seed, lr, s.budget, `${v.id}-seed${a.seed}`);
    clipNorm = cfg.optimizer.clipNorm;
    const share = new GradientShareCallback({ everySteps: a.every, log: false });
    const runDir = join(a.runsDir, cfg.name);
    rmSync(runDir, { recursive: true, force: true });
    const t0 = Date.now();
    const activePairs: ActivePairsSample[] = [];
    const r = await train(cfg, { runDir, quiet: true, data: runData, callbacks: [share, activePairsProbe(a.every, activePairs)] });
    for (const f of ['checkpoint.safetensors', 'model.safetensors']) rmSync(join(runDir, f), { force: true });
    const run: VariantRun = {
      id: v.id,
      label: v.label,
      loss: m.loss,
      lossOptions: cfg.loss.options,
      lr,
      steps: r.steps,
      projections: r.ccpProjections.length,
      testMapAtR: r.test?.mapAtR ?? NaN,
      bestValMapAtR: r.bestValidationMapAtR,
      samples: share.samples,
      activePairs,
    };
    runs.push(run);
    log(
      `${v.label}: ${r.steps} steps, ${run.projections} projections, test MAP@R ${(100 * run.testMapAtR).toFixed(2)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
  const summary = runs.flatMap((r) => summarizeVariant(r, clipNorm));
  log(`\n${terminalTable(summary)}`);
  const pairs = pairsTable(runs);
  if (pairs.cells.length) log(`\n${formatTable(pairs.header, pairs.cells)}`);
  return writeOutputs(a, runs, summary, clipNorm);
}

function writeOutputs(a: GradShareArgs, runs: VariantRun[], summary: ReturnType<typeof summarizeVariant>, clipNorm: number | null) {
  mkdirSync(a.out, { recursive: true });
  const json = join(a.out, 'gradient-share.json');
  const md = join(a.out, 'gradient-share.md');
  const settings = { steps: a.steps, every: a.every, seed: a.seed, maxClasses: a.maxClasses ?? null, threads: a.threads, clipNorm };
  writeFileSync(json, `${JSON.stringify({ settings, summary, runs }, null, 1)}\n`);
  const runRows = runs.map(
    (r) => `| ${r.label} | ${r.lr} | ${r.steps} | ${r.projections} | ${(100 * r.bestValMapAtR).toFixed(2)} | ${(100 * r.testMapAtR).toFixed(2)} |`,
  );
  const text = [
    '# Gradient share of the CCP terms (Omniglot, the accuracy study’s settings)',
    '',
    `Command: \`npm run bench:ccp-grad -- --steps ${a.steps} --every ${a.every} --seed ${a.seed}\`. Each share is a term's gradient norm over the`,
    'sum of the four terms’ norms (in-batch term, proxy term, proximal regulariser, weight decay), on the network',
    '(θ) and on the proxies (P), median over the measured steps of the phase. Norms are of the raw terms, before',
    `clipping (total norm ${clipNorm ?? 'off'}); "clipped %" is the share of measured steps whose total norm exceeded it.`,
    '',
    '| variant | LR | steps | projections | best val. MAP@R | test MAP@R |',
    '|---|---|---|---|---|---|',
    ...runRows,
    '',
    markdownShareTable(summary),
    '',
    'C1 only: active pairs per batch row (positives with s < 1 − ε, negatives with s > m), median over the measured steps.',
    'In the reference form each active pair has the same weight, so the proxy term pushes with the negatives and pulls',
    'with the positives in this ratio; `active` divides each sum by its own count.',
    '',
    markdownTable(pairsTable(runs)),
    '',
  ].join('\n');
  writeFileSync(md, text);
  return { json, md, runs, summary };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  gradShareMain(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`bench:ccp-grad: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
