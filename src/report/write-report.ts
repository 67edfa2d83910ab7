// Writes a run folder's report: report.html (self-contained) and figures/*.svg. The test embeddings come from the
// trainer at the end of a run, or are recomputed from the run's best weights by `ccp-dml report`.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, loadSafetensors } from '../engine/serialization/index.js';
import { ImageLoader, type ImageDataset } from '../data/index.js';
import { formatMetric, metricRows } from '../evaluation/index.js';
import { prepareData, type RunData } from '../training/data-setup.js';
import { embedItems, type Embeddings } from '../training/embed.js';
import { loadRun, PROXIES_FILE } from '../training/run-files.js';
import { readRunRecords, type RunRecords } from './run-data.js';
import { analyzeRetrieval, type RetrievalAnalysis } from './retrieval-analysis.js';
import { embeddingMap, type ProxyRows } from './embedding-map.js';
import { thumbnails } from './thumbnails.js';
import { retrievalGridHtml } from './retrieval-grid.js';
import { renderSvg } from './figures/render.js';
import { lossCurveSpec, validationCurveSpec, scheduleSpec } from './figures/curves.js';
import { projectionsSpec } from './figures/projections.js';
import { perClassHistogramSpec, worstClassesSpec } from './figures/per-class.js';
import { embeddingMapSpec } from './figures/embedding-map.js';
import { reportPageHtml, figureHtml, tableHtml, escapeHtml, type ReportFigure, type ReportSection } from './html.js';

export const REPORT_FILE = 'report.html';
export const FIGURES_DIR = 'figures';

export interface TestEmbeddingsInput {
  query: Embeddings;
  gallery?: Embeddings;
}

export interface RunReportOptions {
  /** Prepared data of the run (default: prepared from its config). */
  data?: RunData;
  /** Test embeddings of the best weights (default: embedded with <run>/model.safetensors). */
  test?: TestEmbeddingsInput;
  /** Items on the embedding map (a stratified sample beyond this). */
  maxMapPoints?: number;
  /** Progress lines on stderr. */
  verbose?: boolean;
}

function duration(s: number): string {
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

async function embedTest(runDir: string, data: RunData): Promise<TestEmbeddingsInput> {
  const { config, model } = loadRun(runDir);
  const load = (ds: ImageDataset) => new ImageLoader(ds, { mode: 'test', transform: data.transform, onBadItem: config.dataset.onBadItem });
  const bs = config.training.evalBatchSize;
  return {
    query: await embedItems(model, load(data.test.query), { batchSize: bs }),
    gallery: data.test.gallery ? await embedItems(model, load(data.test.gallery), { batchSize: bs }) : undefined,
  };
}

function readProxies(runDir: string): ProxyRows | undefined {
  const path = join(runDir, PROXIES_FILE);
  if (!existsSync(path)) return undefined;
  const file = loadSafetensors(path);
  try {
    const p = file.get('proxies');
    const l = file.get('labels');
    if (!p || !l || p.rank !== 2) throw new Error(`${path}: expected tensors 'proxies' [rows, D] and 'labels' [rows]`);
    return { data: p.to('float32').toFloat32Array(), dim: p.size(1), labels: Int32Array.from(l.toArray()) };
  } finally {
    file.dispose();
  }
}

function summarySection(r: RunRecords): ReportSection {
  const c = r.config;
  const f = r.final;
  const e = r.epochs;
  const rows: [string, string][] = [
    ['dataset', `${c.dataset.name}${c.dataset.root ? ` (${c.dataset.root})` : ''}, validation on held-out ${c.dataset.validation}`],
    ['model', `${c.model.name}, D = ${c.model.embeddingDim}${c.model.pretrained ? `, backbone ${c.model.pretrained}` : ''}`],
    ['loss', `${c.loss.name}${c.loss.preset ? ` (preset ${c.loss.preset})` : ''}`],
    ['optimizer', `${c.optimizer.name}, lr ${c.optimizer.lr}, schedule ${c.schedule.name}`],
    ['batches', `${c.training.classesPerBatch} classes × ${c.training.samplesPerClass} samples, ${c.training.stepsPerEpoch} steps per epoch`],
    ['epochs / steps', f ? `${f.epochs} / ${f.steps}` : `${e.length} epochs logged (unfinished run)`],
    ['stopped by', f?.stopReason ?? 'not finished'],
    ['best epoch', f ? `${f.bestEpoch} (validation MAP@R ${formatMetric(f.bestValidationMapAtR)})` : '-'],
    ['CCP projections', String(r.projections.length)],
    ['wall time', f ? `${duration(f.wallSeconds)}${e.length ? `, ${(e[e.length - 1]!.seconds / e.length).toFixed(1)} s per epoch` : ''}` : '-'],
    ['peak memory', e.length ? `${Math.max(...e.map((x) => x.rssMB))} MB resident` : '-'],
  ];
  const v = r.versions;
  const versions: [string, string][] = [
    ['ccp-dml', v.ccpDml],
    ['Node.js', v.node],
    ['libtorch', v.libtorch],
    ['platform', v.platform],
  ];
  return {
    id: 'summary',
    title: 'Run',
    html: `${tableHtml(['', ''], rows, 'run-table')}<h3>Versions (of the process that wrote this report)</h3>${tableHtml(['', ''], versions, 'versions-table')}`,
  };
}

function testSection(r: RunRecords): ReportSection {
  const t = r.test;
  if (!t) return { id: 'test-metrics', title: 'Test metrics', html: '<p>No test evaluation yet (the run was interrupted).</p>' };
  const rows = metricRows(t).map(([k, v]) => [k, formatMetric(v)]);
  const note = `${t.numEvaluated} of ${t.numQueries} queries evaluated (${t.mode === 'self' ? 'self-retrieval' : `against a gallery of ${t.numReferences}`}), best-epoch weights, in %.`;
  return { id: 'test-metrics', title: 'Test metrics', html: `${tableHtml(['metric', 'value'], rows, 'test-table')}<p class="muted">${escapeHtml(note)}</p>` };
}

function projectionTable(r: RunRecords): string {
  const f = (v: number | null | undefined, d = 4) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  const rows = r.projections.map((p) => [
    p.t,
    p.epoch,
    f(p.bestMetric),
    f(p.coveringRadiusBefore),
    f(p.coveringRadius),
    f(p.coveringRadiusMax),
    f(p.proxySpread),
    p.lambda.toExponential(2),
  ]);
  return tableHtml(
    [
      't',
      'epoch',
      'val. MAP@R of the ended problem',
      'covering radius by the trained proxies (mean)',
      'covering radius (mean)',
      'covering radius (worst class)',
      'proxy spread',
      'λ_t after',
    ],
    rows,
    'projection-table',
  );
}

export interface WrittenReport {
  path: string;
  figures: string[];
  analysis: RetrievalAnalysis;
}

/** Writes `<runDir>/report.html` and `<runDir>/figures/*.svg`; returns the report's path. */
export async function writeRunReport(runDir: string, options: RunReportOptions = {}): Promise<string> {
  return (await buildRunReport(runDir, options)).path;
}

export async function buildRunReport(runDir: string, options: RunReportOptions = {}): Promise<WrittenReport> {
  const say = (s: string) => options.verbose && process.stderr.write(`report: ${s}\n`);
  const records = readRunRecords(runDir);
  const cfg = records.config;
  const data = options.data ?? (await prepareData(cfg.dataset, cfg.seed));
  say('embedding the test split');
  const test = options.test ?? (await embedTest(runDir, data));
  const analysis = analyzeRetrieval(test.query, test.gallery, { normalization: cfg.evaluation.normalization, seed: cfg.seed });
  const proxies = readProxies(runDir);
  say(`UMAP of ${Math.min(test.query.labels.length, options.maxMapPoints ?? 2000)} test embeddings`);
  const map = embeddingMap(test.query, { normalization: cfg.evaluation.normalization, proxies, maxPoints: options.maxMapPoints, seed: cfg.seed });

  say('figures and thumbnails');
  const figures = await writeFigures(runDir, figureSpecs(records, data, analysis, map));
  const sections = await reportSections(records, data, analysis, figures);
  const when = new Date().toISOString().replace('T', ' ').slice(0, 19);
  const html = reportPageHtml(`ccp-dml run report: ${cfg.name}`, `${runDir} · written ${when} UTC`, sections);
  const path = join(runDir, REPORT_FILE);
  writeFileAtomic(path, html);
  return { path, figures: [...figures.keys()], analysis };
}

type FigureSpec = [id: string, caption: string, spec: Parameters<typeof renderSvg>[0]];

/** The report's figures, in page order (the projections figure only when the run projected). */
function figureSpecs(records: RunRecords, data: RunData, analysis: RetrievalAnalysis, map: ReturnType<typeof embeddingMap>): FigureSpec[] {
  const bestEpoch = records.final?.bestEpoch ?? null;
  const queryDs = data.test.query;
  return [
    [
      'fig-loss',
      'Training loss per epoch (and per logged step window with training.logEverySteps).',
      lossCurveSpec(records.epochs, records.steps, records.projections),
    ],
    ['fig-validation', 'Validation P@1, R-Precision and MAP@R after every epoch.', validationCurveSpec(records.epochs, records.projections, bestEpoch)],
    ['fig-schedule', 'Learning rate (and CCP λ_t) in force after every epoch.', scheduleSpec(records.epochs)],
    ...(records.projections.length
      ? [
          [
            'fig-projections',
            'Per projection t: covering radius of the candidate pool by the new proxies, proxy spread, and the best validation MAP@R of the problem that ended.',
            projectionsSpec(records.projections),
          ] as FigureSpec,
        ]
      : []),
    ['fig-map', 'UMAP of the N(v)-normalised test embeddings, coloured by class.', embeddingMapSpec(map, queryDs.classNames, data.train.classNames)],
    ['fig-class-hist', 'Distribution of MAP@R over the test classes.', perClassHistogramSpec(analysis.perClass)],
    ['fig-class-worst', 'The ten test classes with the lowest MAP@R.', worstClassesSpec(analysis.perClass, queryDs.classNames)],
  ];
}

/** Renders each figure to `<runDir>/figures/<name>.svg`; returns them by id. */
async function writeFigures(runDir: string, specs: FigureSpec[]): Promise<Map<string, ReportFigure>> {
  const figures = new Map<string, ReportFigure>();
  const figDir = join(runDir, FIGURES_DIR);
  mkdirSync(figDir, { recursive: true });
  for (const [id, caption, spec] of specs) {
    const svg = await renderSvg(spec);
    writeFileSync(join(figDir, `${id.replace(/^fig-/, '')}.svg`), svg);
    figures.set(id, { id, svg, caption });
  }
  return figures;
}

/** The page's sections, in order. */
async function reportSections(records: RunRecords, data: RunData, analysis: RetrievalAnalysis, figures: Map<string, ReportFigure>): Promise<ReportSection[]> {
  const cfg = records.config;
  const fig = (...ids: string[]) =>
    `<div class="figures">${ids
      .filter((i) => figures.has(i))
      .map((i) => figureHtml(figures.get(i)!))
      .join('')}</div>`;
  return [
    summarySection(records),
    testSection(records),
    { id: 'curves', title: 'Training curves', html: fig('fig-loss', 'fig-validation', 'fig-schedule') },
    {
      id: 'projections',
      title: 'CCP projections',
      html: records.projections.length
        ? `${fig('fig-projections')}${projectionTable(records)}`
        : `<p>${cfg.loss.name.startsWith('ccp/') ? 'No projection happened in this run.' : `Not a CCP run (loss ${escapeHtml(cfg.loss.name)}).`}</p>`,
    },
    await retrievalSection(data, analysis),
    { id: 'embedding-map', title: 'Embedding map', html: fig('fig-map') },
    { id: 'per-class', title: 'Per-class MAP@R', html: fig('fig-class-hist', 'fig-class-worst') },
    { id: 'config', title: 'Resolved config', html: `<pre>${escapeHtml(JSON.stringify(cfg, null, 2))}</pre>` },
  ];
}

/** The worst and some random queries with their nearest neighbours, as thumbnails. */
async function retrievalSection(data: RunData, analysis: RetrievalAnalysis): Promise<ReportSection> {
  const queryDs = data.test.query;
  const refDs = data.test.gallery ?? data.test.query;
  const shown = [...analysis.worst, ...analysis.random];
  const queryThumbs = await thumbnails(
    queryDs,
    shown.map((q) => q.index),
  );
  const refThumbs = await thumbnails(
    refDs,
    shown.flatMap((q) => q.neighbours.map((n) => n.index)),
  );
  const gridImages = {
    query: queryThumbs,
    reference: refThumbs,
    queryClass: (i: number) => queryDs.items[i]!.className,
    referenceClass: (i: number) => refDs.items[i]!.className,
  };
  const k = shown[0]?.neighbours.length ?? 0;
  return {
    id: 'retrieval',
    title: 'Retrieval examples',
    html:
      `<p class="muted">Top ${k} ${data.test.gallery ? 'gallery items' : 'other test items'} of each query, nearest first: green ✓ same class, red ✗ other class, with the distance between N(v)-normalised embeddings. AP@R of the query beside its class.</p>` +
      retrievalGridHtml('Worst queries (lowest AP@R)', analysis.worst, gridImages) +
      retrievalGridHtml('Random queries', analysis.random, gridImages),
  };
}
