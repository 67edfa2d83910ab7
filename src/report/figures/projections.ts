// Per CCP projection t: the covering radius of the candidate pool by the new proxies (and by the proxies as training
// left them, before re-placement), the spread of the proxies, and the best validation metric of the problem that the
// projection ended.
import type { TopLevelSpec } from 'vega-lite';
import type { CcpProjectionEvent } from '../../ccp/index.js';
import { VEGA_LITE_SCHEMA } from './render.js';

export function projectionsSpec(projections: readonly CcpProjectionEvent[]): TopLevelSpec {
  const rows: { t: number; epoch: number; quantity: string; value: number }[] = [];
  for (const p of projections) {
    const add = (quantity: string, value: number | null | undefined) => {
      if (value !== null && value !== undefined && Number.isFinite(value)) rows.push({ t: p.t, epoch: p.epoch, quantity, value });
    };
    add('covering radius (mean over classes)', p.coveringRadius);
    add('covering radius by the trained proxies', p.coveringRadiusBefore);
    add('covering radius (worst class)', p.coveringRadiusMax);
    add('proxy spread', p.proxySpread);
    add('val. metric of the ended problem', p.bestMetric);
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'CCP projections', subtitle: 'N(v)-normalised Euclidean distances; metric: best validation MAP@R before the projection' },
    data: { values: rows },
    facet: {
      column: {
        field: 'quantity',
        type: 'nominal',
        title: null,
        sort: [
          'covering radius (mean over classes)',
          'covering radius by the trained proxies',
          'covering radius (worst class)',
          'proxy spread',
          'val. metric of the ended problem',
        ],
      },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 150,
      height: 150,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'projection t', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        tooltip: [{ field: 't' }, { field: 'epoch' }, { field: 'value', format: '.4f' }],
      },
    },
  } as TopLevelSpec;
}
