// The MLRC protocol's summary page (<root>/report.html): the fold-model table, the 128D / 512D ensemble table,
// every fold model's validation MAP@R curve, and links to each fold model's own report.
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../engine/serialization/index.js';
import { formatMetric, type EnsembleRepeatsResult, type Stat } from '../evaluation/index.js';
import { readRunRecords, currentVersions } from './run-data.js';
import { renderSvg, VEGA_LITE_SCHEMA } from './figures/render.js';
import { reportPageHtml, figureHtml, tableHtml, escapeHtml, type ReportSection } from './html.js';
import { REPORT_FILE, FIGURES_DIR } from './write-report.js';
import { MLRC_RESULTS_FILE } from '../training/run-files.js';

interface MlrcResultsFile {
  runs: { fold: number; repeat: number; runDir: string }[];
  ensemble: EnsembleRepeatsResult;
}

export function isMlrcRoot(dir: string): boolean {
  return existsSync(join(dir, MLRC_RESULTS_FILE));
}

function stat(s: Stat | undefined): string {
  return s ? `${formatMetric(s.mean)} ± ${formatMetric(s.std)}` : '-';
}

function foldCurvesSpec(values: { epoch: number; model: string; mapAtR: number }[]): TopLevelSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'Validation MAP@R of every fold model' },
    width: 560,
    height: 260,
    data: { values },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' },
      y: { field: 'mapAtR', type: 'quantitative', title: 'validation MAP@R', scale: { zero: false } },
      color: { field: 'model', type: 'nominal', title: 'fold model' },
      tooltip: [{ field: 'model' }, { field: 'epoch' }, { field: 'mapAtR', format: '.4f' }],
    },
  } as TopLevelSpec;
}

/** Writes `<root>/report.html` for an MLRC protocol folder (the one holding mlrc-results.json). */
export async function writeMlrcReport(root: string, o: { dims?: number } = {}): Promise<string> {
  const path = join(root, MLRC_RESULTS_FILE);
  if (!existsSync(path)) throw new Error(`${root} is not an MLRC protocol folder: no ${MLRC_RESULTS_FILE}`);
  const results = JSON.parse(readFileSync(path, 'utf8')) as MlrcResultsFile;
  const folds = results.runs.map((r) => ({ ...r, records: existsSync(join(r.runDir, 'config.json')) ? readRunRecords(r.runDir) : null }));
  const dims = o.dims ?? folds.find((f) => f.records)?.records?.config.model.embeddingDim ?? 128;
  const n = new Set(results.runs.map((r) => r.fold)).size;

  const foldRows = folds.map((f) => {
    const fin = f.records?.final;
    const link = existsSync(join(f.runDir, REPORT_FILE)) ? relative(root, join(f.runDir, REPORT_FILE)) : null;
    return {
      cells: [
        `repeat ${f.repeat}, fold ${f.fold}`,
        fin ? `${fin.epochs} / ${fin.steps}` : '-',
        fin?.bestEpoch ?? '-',
        formatMetric(fin?.test?.precisionAt1),
        formatMetric(fin?.test?.rPrecision),
        formatMetric(fin?.test?.mapAtR),
        f.records?.projections.length ?? '-',
      ],
      link,
    };
  });
  const foldTable = tableHtml(
    ['fold model', 'epochs / steps', 'best epoch', 'test P@1', 'R-Precision', 'MAP@R', 'CCP projections'],
    foldRows.map((r) => r.cells),
    'fold-table',
  );
  const links = foldRows.filter((r) => r.link).map((r) => `<li><a href="${escapeHtml(r.link!)}">${escapeHtml(String(r.cells[0]))}</a></li>`);
  const e = results.ensemble;
  const ensembleTable = tableHtml(
    ['embedding', 'P@1', 'R-Precision', 'MAP@R'],
    [
      [`${n * dims}D (concatenated)`, stat(e.concatenated.precisionAt1), stat(e.concatenated.rPrecision), stat(e.concatenated.mapAtR)],
      [`${dims}D (separated)`, stat(e.separated.precisionAt1), stat(e.separated.rPrecision), stat(e.separated.mapAtR)],
    ],
    'ensemble-table',
  );
  const curve = folds.flatMap((f) =>
    (f.records?.epochs ?? []).map((ep) => ({ epoch: ep.epoch, model: `r${f.repeat} f${f.fold}`, mapAtR: ep.validation.mapAtR })),
  );
  const svg = await renderSvg(foldCurvesSpec(curve));
  mkdirSync(join(root, FIGURES_DIR), { recursive: true });
  writeFileSync(join(root, FIGURES_DIR, 'fold-validation.svg'), svg);
  const v = currentVersions();
  const sections: ReportSection[] = [
    {
      id: 'ensemble',
      title: 'Test metrics (MLRC)',
      html: `${ensembleTable}<p class="muted">Mean ± std over ${e.combinations} combination(s) of repeats, in %.</p>`,
    },
    { id: 'folds', title: 'Fold models', html: `${foldTable}<ul>${links.join('')}</ul>` },
    {
      id: 'curves',
      title: 'Validation curves',
      html: figureHtml({ id: 'fig-fold-validation', svg, caption: 'Each fold model validates on a different quarter of the training classes.' }),
    },
    {
      id: 'versions',
      title: 'Versions',
      html: tableHtml(
        ['', ''],
        [
          ['ccp-dml', v.ccpDml],
          ['Node.js', v.node],
          ['libtorch', v.libtorch],
          ['platform', v.platform],
        ],
      ),
    },
  ];
  const name = folds.find((f) => f.records)?.records?.config.name.replace(/-r\d+-f\d+$/, '') ?? root;
  const out = join(root, REPORT_FILE);
  writeFileAtomic(
    out,
    reportPageHtml(`ccp-dml MLRC report: ${name}`, `${root} · ${n} fold models × ${new Set(results.runs.map((r) => r.repeat)).size} repeat(s)`, sections),
  );
  return out;
}
