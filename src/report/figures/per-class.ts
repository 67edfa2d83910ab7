// MAP@R per test class: the histogram over classes and the ten worst classes.
import type { TopLevelSpec } from 'vega-lite';
import type { ClassScore } from '../retrieval-analysis.js';
import { VEGA_LITE_SCHEMA } from './render.js';

export function perClassHistogramSpec(scores: readonly ClassScore[]): TopLevelSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'MAP@R per test class', subtitle: `${scores.length} classes` },
    width: 360,
    height: 200,
    data: { values: scores.map((s) => ({ mapAtR: s.mapAtR })) },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'mapAtR', type: 'quantitative', bin: { extent: [0, 1], step: 0.05 }, title: 'class MAP@R' },
      y: { aggregate: 'count', type: 'quantitative', title: 'classes' },
    },
  } as TopLevelSpec;
}

export function worstClassesSpec(scores: readonly ClassScore[], classNames: readonly string[], count = 10): TopLevelSpec {
  const worst = [...scores].sort((a, b) => a.mapAtR - b.mapAtR || a.label - b.label).slice(0, count);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: `The ${worst.length} worst classes` },
    width: 300,
    height: { step: 18 },
    data: { values: worst.map((s) => ({ cls: classNames[s.label] ?? String(s.label), mapAtR: s.mapAtR, queries: s.queries })) },
    mark: { type: 'bar', color: '#e45756' },
    encoding: {
      y: { field: 'cls', type: 'nominal', sort: { field: 'mapAtR', order: 'ascending' }, title: 'class' },
      x: { field: 'mapAtR', type: 'quantitative', scale: { domain: [0, 1] }, title: 'MAP@R' },
      tooltip: [{ field: 'cls', title: 'class' }, { field: 'mapAtR', format: '.4f' }, { field: 'queries' }],
    },
  } as TopLevelSpec;
}
