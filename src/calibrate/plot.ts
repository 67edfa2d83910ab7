// The precision / recall / F1 against distance threshold curve as an SVG (vega-lite compiled to vega,
// rendered headless: no browser or canvas), with the chosen threshold marked.
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg, VEGA_LITE_SCHEMA } from '../report/figures/render.js';
import type { CurvePoint } from './threshold.js';

export async function thresholdPlotSvg(curve: readonly CurvePoint[], chosen: number, title: string): Promise<string> {
  // At most ~400 points: the curve has one per distinct distance.
  const step = Math.max(1, Math.ceil(curve.length / 400));
  const values = curve
    .filter((_, i) => i % step === 0 || i === curve.length - 1)
    .flatMap((p) => [
      { threshold: p.threshold, metric: 'precision', value: p.precision },
      { threshold: p.threshold, metric: 'recall', value: p.recall },
      { threshold: p.threshold, metric: 'F1', value: p.f1 },
    ]);
  const spec: TopLevelSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: title, subtitle: `chosen threshold ${chosen.toPrecision(4)} (dashed)` },
    width: 420,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'line' },
        encoding: {
          x: { field: 'threshold', type: 'quantitative', title: 'distance threshold' },
          y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
          color: { field: 'metric', type: 'nominal', sort: ['precision', 'recall', 'F1'], title: null },
        },
      },
      { data: { values: [{ t: chosen }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#444' }, encoding: { x: { field: 't', type: 'quantitative' } } },
    ],
  };
  return renderSvg(spec);
}
