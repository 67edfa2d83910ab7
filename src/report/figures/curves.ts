// Training curves as vega-lite specs: the loss (per epoch, and per logged step window), the validation metrics,
// and the schedules (learning rate, CCP's λ_t), each with the CCP projections marked as dashed rules.
import type { TopLevelSpec } from 'vega-lite';
import type { EpochRecord } from '../../training/trainer.js';
import type { CcpProjectionEvent } from '../../ccp/index.js';
import type { StepRecord } from '../run-data.js';
import { VEGA_LITE_SCHEMA } from './render.js';

const WIDTH = 520;
const HEIGHT = 220;

/** Dashed vertical rules at the projection epochs (x in epochs, or in steps when `stepOf` is given). */
function projectionRules(projections: readonly CcpProjectionEvent[], field: string, stepOf?: (epoch: number) => number) {
  const values = projections.map((p) => ({ [field]: stepOf ? stepOf(p.epoch) : p.epoch, t: p.t }));
  return {
    data: { values },
    mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#b03030' },
    encoding: { x: { field, type: 'quantitative' as const }, tooltip: [{ field: 't', title: 'projection t' }] },
  };
}

/** A line chart (one line per series) with extra rule layers on top. */
function linesChart(title: string, notes: string[], values: object[], pointed: boolean, encoding: Record<string, unknown>, rules: object[]): TopLevelSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: title, subtitle: notes.filter(Boolean).join('; ') },
    width: WIDTH,
    height: HEIGHT,
    layer: [{ data: { values }, mark: { type: 'line', point: pointed }, encoding }, ...rules],
  } as TopLevelSpec;
}

export function lossCurveSpec(epochs: readonly EpochRecord[], steps: readonly StepRecord[], projections: readonly CcpProjectionEvent[]): TopLevelSpec {
  const stepAtEpochEnd = new Map(epochs.map((e) => [e.epoch, e.step]));
  const values = [
    ...epochs.map((e) => ({ step: e.step, loss: e.loss, series: 'epoch mean' })),
    ...steps.map((s) => ({ step: s.step, loss: s.loss, series: 'step window mean' })),
  ];
  return linesChart(
    'Training loss',
    [projections.length ? 'dashed: CCP projections' : ''],
    values,
    epochs.length < 60,
    {
      x: { field: 'step', type: 'quantitative', title: 'training step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: ['epoch mean', 'step window mean'] },
      opacity: { condition: { test: "datum.series === 'epoch mean'", value: 1 }, value: 0.55 },
    },
    projections.length ? [projectionRules(projections, 'step', (ep) => stepAtEpochEnd.get(ep) ?? NaN)] : [],
  );
}

export function validationCurveSpec(epochs: readonly EpochRecord[], projections: readonly CcpProjectionEvent[], bestEpoch: number | null): TopLevelSpec {
  const values = epochs.flatMap((e) => [
    { epoch: e.epoch, metric: 'MAP@R', value: e.validation.mapAtR },
    { epoch: e.epoch, metric: 'R-Precision', value: e.validation.rPrecision },
    { epoch: e.epoch, metric: 'P@1', value: e.validation.precisionAt1 },
  ]);
  const best = {
    data: { values: [{ epoch: bestEpoch }] },
    mark: { type: 'rule', color: '#999', strokeWidth: 3, opacity: 0.5 },
    encoding: { x: { field: 'epoch', type: 'quantitative' } },
  };
  return linesChart(
    'Validation metrics per epoch',
    [bestEpoch ? `best epoch ${bestEpoch} (grey)` : '', projections.length ? 'dashed: CCP projections' : ''],
    values,
    epochs.length < 60,
    {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal', title: null, sort: ['MAP@R', 'R-Precision', 'P@1'] },
      tooltip: [{ field: 'epoch' }, { field: 'metric' }, { field: 'value', format: '.4f' }],
    },
    [...(bestEpoch ? [best] : []), ...(projections.length ? [projectionRules(projections, 'epoch')] : [])],
  );
}

/** Learning rate per epoch and, for CCP runs, λ_t (the proximal weight in force after each epoch; it steps at projections). */
export function scheduleSpec(epochs: readonly EpochRecord[]): TopLevelSpec {
  const values = epochs.flatMap((e) => [
    { epoch: e.epoch, series: 'learning rate', value: e.lr },
    ...(e.ccp ? [{ epoch: e.epoch, series: 'CCP λ_t', value: e.ccp.lambda }] : []),
  ]);
  const series = [...new Set(values.map((v) => v.series))];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: series.length > 1 ? 'Learning rate and CCP λ_t' : 'Learning rate' },
    data: { values },
    facet: { row: { field: 'series', type: 'nominal', title: null, sort: ['learning rate', 'CCP λ_t'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: WIDTH,
      height: 90,
      mark: { type: 'line', point: epochs.length < 60, interpolate: 'step-after' },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'value', type: 'quantitative', title: null, axis: { format: '.1e' } },
        tooltip: [{ field: 'epoch' }, { field: 'value', format: '.3e' }],
      },
    },
  } as TopLevelSpec;
}
