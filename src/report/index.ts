// Run reports: an HTML page per run (curves, CCP projections, test metrics, retrieval grid, embedding map,
// per-class MAP@R, config) and the MLRC protocol's summary page.
export {
  writeRunReport,
  buildRunReport,
  REPORT_FILE,
  FIGURES_DIR,
  type RunReportOptions,
  type TestEmbeddingsInput,
  type WrittenReport,
} from './write-report.js';
export { readRunRecords, currentVersions, type RunRecords, type StepRecord, type FinalSummary, type Versions } from './run-data.js';
export { analyzeRetrieval, type RetrievalAnalysis, type ShownQuery, type Neighbour, type ClassScore } from './retrieval-analysis.js';
export { embeddingMap, stratifiedSample, type EmbeddingMap, type MapPoint, type ProxyRows } from './embedding-map.js';
export { renderSvg } from './figures/render.js';
export { writeMlrcReport, isMlrcRoot } from './mlrc-report.js';
export { runReportCallback, mlrcReportCallback } from './report-callbacks.js';
// Run-folder file names are training's (it writes them); re-exported for the report's users.
export { PROXIES_FILE, MLRC_RESULTS_FILE } from '../training/run-files.js';
