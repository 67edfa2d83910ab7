// Turns a study's run records into the summary (mean ± std over seeds), the Markdown report with a reading
// paragraph generated from the numbers, and the JSON file.
import { describe, type Stat } from '../../src/evaluation/index.js';
import { STUDY_METHODS } from './methods.js';
import type { RunRecord, StudyResult, StudySettings } from './study.js';
import { DEFAULT_PRETRAIN_EPOCHS } from './pretrain-mnist.js';

export interface MethodSummary {
  id: string;
  label: string;
  loss: string;
  kind: string;
  base: string;
  lr: number;
  seeds: number[];
  /** Test metrics over seeds (fractions; std with divisor n − 1 when n > 1). */
  precisionAt1: Stat;
  rPrecision: Stat;
  mapAtR: Stat;
  steps: number;
  projections: number;
  trainSeconds: number;
  wallSeconds: number;
  tuning: { lr: number; valMapAtR: number }[];
}

export interface TimingModel {
  /** Training seconds per step (mean over all runs, validation included). */
  secondsPerStep: number;
  /** Seconds per run outside the training loop (setup, initial CCP pool, final evaluation); test runs. */
  testRunOverhead: number;
  /** Same for LR-search runs (their final evaluation is on the smaller validation fold). */
  tuneRunOverhead: number;
}

const stat = (values: number[]): Stat => describe(values, values.length > 1 ? 1 : 0);
const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

export function summarize(result: StudyResult): MethodSummary[] {
  const order = new Map(STUDY_METHODS.map((m, i) => [m.id, i]));
  return result.settings.methods
    .slice()
    .sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
    .map((m) => {
      const runs = result.runs.filter((r) => r.method === m.id && r.purpose === 'test');
      if (runs.length === 0) throw new Error(`summarize: no test runs of ${m.id}`);
      return {
        id: m.id,
        label: m.label,
        loss: m.loss,
        kind: m.kind,
        base: m.base,
        lr: runs[0]!.lr,
        seeds: runs.map((r) => r.seed),
        precisionAt1: stat(runs.map((r) => r.final.precisionAt1)),
        rPrecision: stat(runs.map((r) => r.final.rPrecision)),
        mapAtR: stat(runs.map((r) => r.final.mapAtR)),
        steps: mean(runs.map((r) => r.steps)),
        projections: mean(runs.map((r) => r.projections.length)),
        trainSeconds: mean(runs.map((r) => r.trainSeconds)),
        wallSeconds: mean(runs.map((r) => r.wallSeconds)),
        tuning: (result.tuning[m.id]?.grid ?? []).map((g) => ({ lr: g.lr, valMapAtR: g.valMapAtR })),
      };
    });
}

/** Cost model fitted on a study's runs, to size other budgets. */
export function timingModel(runs: RunRecord[]): TimingModel {
  const overhead = (p: 'tune' | 'test') => mean(runs.filter((r) => r.purpose === p).map((r) => r.wallSeconds - r.trainSeconds));
  const steps = runs.reduce((a, r) => a + r.steps, 0);
  const secs = runs.reduce((a, r) => a + r.trainSeconds, 0);
  const tune = overhead('tune');
  return {
    secondsPerStep: secs / Math.max(1, steps),
    testRunOverhead: overhead('test'),
    tuneRunOverhead: Number.isFinite(tune) ? tune : overhead('test') * 0.5,
  };
}

/**
 * Predicted wall seconds of a study with these settings. With `stepCosts` (seconds per step of each method from
 * measureStepCosts) and the ids of the methods the timing model was measured on, each method's step time is the
 * measured one scaled by its cost relative to the measured methods' mean cost.
 */
export function predictSeconds(
  s: Pick<StudySettings, 'methods' | 'seeds' | 'budget' | 'tuneFraction' | 'lrGrid' | 'stepsPerEpoch'>,
  t: TimingModel,
  costs?: { stepCosts: Record<string, number>; measuredOn: string[] },
): number {
  const tuneRuns = s.lrGrid.length > 1 ? s.lrGrid.length : 0;
  const ref = costs ? mean(costs.measuredOn.map((id) => costs.stepCosts[id]!).filter((x) => x !== undefined)) : NaN;
  let total = 0;
  for (const m of s.methods) {
    if (s.budget.kind === 'seconds') {
      total += tuneRuns * (s.budget.value * s.tuneFraction + t.tuneRunOverhead) + s.seeds.length * (s.budget.value + t.testRunOverhead);
      continue;
    }
    const c = costs?.stepCosts[m.id];
    const perStep = c !== undefined && Number.isFinite(ref) && ref > 0 ? (t.secondsPerStep * c) / ref : t.secondsPerStep;
    // Runs train whole epochs (runConfig rounds the budget up).
    const steps = (b: number) => Math.max(1, Math.ceil(Math.max(1, Math.round(b)) / s.stepsPerEpoch)) * s.stepsPerEpoch;
    total +=
      tuneRuns * (steps(s.budget.value * s.tuneFraction) * perStep + t.tuneRunOverhead) +
      s.seeds.length * (steps(s.budget.value) * perStep + t.testRunOverhead);
  }
  return total;
}

const pct = (x: number, d = 2) => (100 * x).toFixed(d);
const pm = (s: Stat) => (s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean));
const lrText = (lr: number) => lr.toExponential(0).replace('+', '');

export function markdownTable(rows: MethodSummary[]): string {
  const header = '| Method | loss | LR (val-tuned) | P@1 | R-Precision | MAP@R | steps | CCP projections | train s/run | wall s/run |';
  const sep = '|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map(
    (r) =>
      `| ${r.label} | \`${r.loss}\` | ${lrText(r.lr)} | ${pm(r.precisionAt1)} | ${pm(r.rPrecision)} | ${pm(r.mapAtR)} | ${Math.round(r.steps)} | ${r.kind === 'ccp' ? r.projections.toFixed(1) : '–'} | ${r.trainSeconds.toFixed(0)} | ${r.wallSeconds.toFixed(0)} |`,
  );
  return [header, sep, ...lines].join('\n');
}

function tuningTable(rows: MethodSummary[]): string {
  const lrs = [...new Set(rows.flatMap((r) => r.tuning.map((t) => t.lr)))].sort((a, b) => a - b);
  if (lrs.length === 0) return '_No LR search (a single LR was given)._';
  const header = `| Method | ${lrs.map((lr) => `val MAP@R @ ${lrText(lr)}`).join(' | ')} | chosen |`;
  const sep = `|---|${lrs.map(() => '---|').join('')}---|`;
  const lines = rows.map(
    (r) =>
      `| ${r.label} | ${lrs
        .map((lr) => {
          const t = r.tuning.find((x) => x.lr === lr);
          return t ? (t.lr === r.lr ? `**${pct(t.valMapAtR)}**` : pct(t.valMapAtR)) : '–';
        })
        .join(' | ')} | ${lrText(r.lr)} |`,
  );
  return [header, sep, ...lines].join('\n');
}

/** Difference of two summaries' MAP@R and whether it is larger than the seeds' spread. */
function compare(a: MethodSummary, b: MethodSummary): { delta: number; spread: number; clear: boolean } {
  const delta = b.mapAtR.mean - a.mapAtR.mean;
  const spread = a.mapAtR.std + b.mapAtR.std;
  // With one seed there is no spread to compare with: nothing is called clear.
  const clear = a.mapAtR.n > 1 && b.mapAtR.n > 1 && Math.abs(delta) > spread;
  return { delta, spread, clear };
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${pct(Math.abs(x))}`;

/** The reading paragraph: filled from the numbers, saying where CCP helps and where it does not. */
export function readingParagraph(rows: MethodSummary[], s: StudySettings): string {
  const by = new Map(rows.map((r) => [r.id, r]));
  const out: string[] = [];
  const helps: string[] = [];
  const hurts: string[] = [];
  const unclear: string[] = [];
  for (const c of rows.filter((r) => r.kind === 'ccp')) {
    const base = by.get(c.base);
    if (!base) continue;
    const d = compare(base, c);
    const text = `${base.label} ${pct(base.mapAtR.mean)} → ${c.label} ${pct(c.mapAtR.mean)} (${signed(d.delta)} points, seed spread ±${pct(d.spread)})`;
    if (!d.clear) unclear.push(text);
    else if (d.delta > 0) helps.push(text);
    else hurts.push(text);
  }
  const oneSeed = rows.some((r) => r.mapAtR.n < 2);
  if (helps.length) out.push(`CCP improves test MAP@R by more than the seed-to-seed spread for: ${helps.join('; ')}.`);
  if (hurts.length) out.push(`CCP is worse by more than the spread for: ${hurts.join('; ')}.`);
  if (unclear.length)
    out.push(`${oneSeed ? 'With one seed no difference can be told from seed noise' : 'The difference is within the seed spread'} for: ${unclear.join('; ')}.`);
  const ccpRows = rows.filter((r) => r.kind === 'ccp');
  if (ccpRows.length) {
    const proj = ccpRows.map((r) => `${r.label} ${r.projections.toFixed(1)}`).join(', ');
    out.push(
      `CCP runs made on average ${proj} projection(s) within the budget (a problem ends after ${s.ccp.patience} epoch(s) of ${s.stepsPerEpoch} steps without a validation gain).` +
        (ccpRows.some((r) => r.projections === 0)
          ? ' A CCP run without any projection is just the first proxy problem (K-center proxies, λ = 0), so its row measures proxy-based training, not the iterations.'
          : ''),
    );
  }
  const xbm = by.get('c2-xbm');
  const c2 = by.get('c2');
  if (xbm && c2) {
    const d = compare(c2, xbm);
    out.push(`XBM on C2: ${signed(d.delta)} MAP@R points over C2 (${d.clear ? 'more' : 'not more'} than the spread ±${pct(d.spread)}).`);
    const c2ccp = by.get('c2-ccp');
    if (c2ccp) {
      const e = compare(xbm, c2ccp);
      out.push(`C2-CCP vs C2-XBM: ${signed(e.delta)} points (${e.clear ? 'more' : 'not more'} than the spread).`);
    }
  }
  const proxies = rows.filter((r) => r.kind === 'proxy');
  if (proxies.length && ccpRows.length) {
    const bestProxy = proxies.reduce((a, b) => (b.mapAtR.mean > a.mapAtR.mean ? b : a));
    const bestCcp = ccpRows.reduce((a, b) => (b.mapAtR.mean > a.mapAtR.mean ? b : a));
    const d = compare(bestProxy, bestCcp);
    out.push(
      `Best CCP variant ${bestCcp.label} (${pct(bestCcp.mapAtR.mean)}) vs best proxy baseline ${bestProxy.label} (${pct(bestProxy.mapAtR.mean)}): ${signed(d.delta)} points (${d.clear ? 'more' : 'not more'} than the spread).`,
    );
  }
  const best = rows.reduce((a, b) => (b.mapAtR.mean > a.mapAtR.mean ? b : a));
  out.push(`Highest mean test MAP@R: ${best.label} (${pm(best.mapAtR)}).`);
  out.push(
    `Scope: a ${s.channels.join('-')} small CNN ${pretrainedBackbone(s) ? `whose backbone was ${pretrainedBackbone(s)}, then fine-tuned` : 'trained from scratch'} on ${s.imageSize} px Omniglot for ${s.budget.kind === 'steps' ? `${s.budget.value} steps` : `${s.budget.value} s`} per run ` +
      `(${s.seeds.length} seed(s), one MLRC fold, learning rate picked per method on the validation classes). ` +
      `The paper's numbers come from ImageNet-pretrained BN-Inception trained at LR 1e-5 for tens of thousands of steps with early stopping, so this table ` +
      `is a small-scale comparison under a fixed, equal step budget, not a reproduction of its Tables 1–2; "clear" here means the gap in means exceeds the sum of the two standard deviations, not a significance test.`,
  );
  return out.join(' ');
}

/** How a pretrained backbone was made, for the report's prose; null when trained from scratch. */
function pretrainedBackbone(s: StudySettings): string | null {
  if (s.pretrained !== 'mnist') return null;
  return `pretrained on MNIST digit classification (${s.pretrainEpochs ?? DEFAULT_PRETRAIN_EPOCHS} epochs, softmax, all 10 digits; the analogue of the paper's ImageNet-pretrained backbone: other data, never an Omniglot image), head fresh`;
}

export function markdownReport(result: StudyResult, opts: { plotFile?: string; estimate?: { settings: string; seconds: number } } = {}): string {
  const s = result.settings;
  const rows = summarize(result);
  const d = result.data;
  const reused = result.runs.filter((r) => r.reused).length;
  const lines = [
    `# CCP accuracy study on Omniglot (${s.mode} mode)`,
    '',
    `Generated by \`npm run bench:ccp${s.mode === 'quick' ? ' -- --quick' : ''}\` (bench/ccp/) on ${result.finishedAt.slice(0, 10)}; ${(result.wallSeconds / 60).toFixed(1)} min on ${result.host.cpus} CPU core(s) (load average at the end ${result.host.loadAverage.map((x) => x.toFixed(1)).join(', ')})` +
      (reused
        ? `; ${reused} of ${result.runs.length} runs were reused from saved run records (all runs together took ${(result.runSeconds / 60).toFixed(1)} min of training and evaluation).`
        : `; the runs themselves took ${(result.runSeconds / 60).toFixed(1)} min, the rest is data preparation.`),
    '',
    `Test metrics on the ${d.testClasses} evaluation-alphabet classes (${d.testImages} images, each a query against all others), in %, mean ± std over seeds ${[...new Set(result.runs.filter((r) => r.purpose === 'test').map((r) => r.seed))].join(', ')} (std with n − 1).`,
    '',
    markdownTable(rows),
    '',
    '## Reading',
    '',
    readingParagraph(rows, s),
    '',
    '## Setup (identical for every method)',
    '',
    `- Data: Omniglot background alphabets = training classes, evaluation alphabets = test classes (the data layer's \`omniglotSplit\`). MLRC fold 0 of the ${d.trainClasses + d.validationClasses} background classes: ${d.trainClasses} training classes (${d.trainImages} images) and ${d.validationClasses} validation classes (${d.validationImages} images). ${s.imageSize}×${s.imageSize} grey, pixel/255, no augmentation.${s.maxClasses ? ` Only the first ${s.maxClasses} classes of each side.` : ''}`,
    `- Model: small CNN, widths ${s.channels.join(', ')} (conv3×3-BN-ReLU, max-pool between blocks), global average pooling, linear head to D = ${s.embeddingDim}; ${pretrainedBackbone(s) ? `the backbone was ${pretrainedBackbone(s)}, then fine-tuned` : 'trained from scratch'}.`,
    `- Batches 8 classes × 4 images (every method, the proxy baselines too); Adam (β 0.9/0.999, ε 1e-7), constant LR, coupled weight decay 1e-4, gradient clipping norm 10 / value 10; proxy LR multiplier as the loss suggests (×100 for ProxyAnchor, ProxyNCA++, SoftTriple).`,
    `- Budget: ${s.budget.kind === 'steps' ? `${s.budget.value} training steps` : `${s.budget.value} s of training`} per run, validation every ${s.stepsPerEpoch} steps on ${s.maxValidationSamples ?? 'all'} validation images (MAP@R), no global early stopping; the weights of the best validation epoch are evaluated on the test classes (MLRC).`,
    `- Loss hyperparameters: the '${s.lossPreset}' preset (the reference repository's defaults, what its dml configs run; Omniglot has no paper preset).`,
    `- CCP: K = ${s.ccp.proxiesPerClass} proxies per class, pool b = ${s.ccp.poolSize} (the paper's 'large' setting for many classes with few images each, as Omniglot's 20 per class), λ = ${s.ccp.lambda}, a problem ends after ${s.ccp.patience} epoch(s) of ${s.stepsPerEpoch} steps without a validation gain (the code's 3 epochs of 25 steps assume a converging pretrained model; ${pretrainedBackbone(s) ? "here 2 epochs of 50 steps, the code's 75 steps rounded to our validation interval" : 'trained from scratch, validation MAP@R still rises almost every epoch, and a probe with patience 2 made no projection in 1,200 steps'}); in-batch weight 0.1, proxy weight 1.0.`,
    `- XBM: memory of ${s.xbm.memoryBatches} batches (the paper's 'L' size for the small datasets), memory term on from ${Math.round(s.xbm.startFraction * 100)}% of the planned steps (at least the memory size).`,
    `- LR search: grid ${s.lrGrid.map(lrText).join(', ')}, seed ${s.tuneSeed}, ${Math.round(s.tuneFraction * 100)}% of the budget; score = MAP@R of the best epoch's weights on the whole validation fold. These runs never embed a test image (their final evaluation set is the validation fold).`,
    `- Precision of the backbone: ${s.precision ?? 'fp32'}${s.precision === 'bf16' || s.precision === 'auto' ? ' (bf16 autocast around the forward; losses, proxies, optimizer state and metrics in float32)' : ''}; libtorch threads ${s.threads ?? 'default'}.`,
    ...(s.fixedLrs
      ? [
          `- LR fixed up front (no search) for ${Object.entries(s.fixedLrs)
            .map(([id, lr]) => `${id} ${lrText(lr)}`)
            .join(', ')}.`,
        ]
      : []),
    '',
    '## LR search (validation MAP@R, %)',
    '',
    tuningTable(rows),
    '',
  ];
  if (opts.plotFile)
    lines.push(
      '## Validation MAP@R during training',
      '',
      `![validation MAP@R](${opts.plotFile})`,
      '',
      "Mean over seeds of the per-epoch validation MAP@R; triangles mark CCP projections (each seed's own).",
      '',
    );
  if (opts.estimate)
    lines.push(
      '## Full-study duration estimate',
      '',
      `At this run's measured speed (${opts.estimate.settings}) the full study would take about ${(opts.estimate.seconds / 60).toFixed(0)} min.`,
      '',
    );
  return lines.join('\n');
}

export function jsonReport(result: StudyResult, extra: Record<string, unknown> = {}): string {
  const rows = summarize(result);
  return (
    JSON.stringify(
      {
        ...extra,
        settings: result.settings,
        data: result.data,
        summary: rows,
        tuning: result.tuning,
        timing: timingModel(result.runs),
        runs: result.runs,
        wallSeconds: result.wallSeconds,
        runSeconds: result.runSeconds,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        host: result.host,
      },
      null,
      2,
    ) + '\n'
  );
}
