// The UMAP map of the test embeddings as a scatter plot coloured by class, with the CCP proxies (of the training
// classes) drawn as black crosses.
import type { TopLevelSpec } from 'vega-lite';
import type { EmbeddingMap } from '../embedding-map.js';
import { VEGA_LITE_SCHEMA } from './render.js';

export function embeddingMapSpec(map: EmbeddingMap, testClassNames: readonly string[], trainClassNames: readonly string[]): TopLevelSpec {
  const classes = new Set(map.points.map((p) => p.label)).size;
  const points = map.points.map((p) => ({ x: p.x, y: p.y, cls: testClassNames[p.label] ?? String(p.label) }));
  const proxies = map.proxies.map((p) => ({ x: p.x, y: p.y, cls: trainClassNames[p.label] ?? String(p.label) }));
  const sampled = map.points.length < map.total ? `${map.points.length} of ${map.total} test items (stratified sample)` : `${map.total} test items`;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: 'Embedding map (UMAP)',
      subtitle: `${sampled}, ${classes} classes${proxies.length ? `; ✕ = ${proxies.length} CCP proxies of the training classes` : ''}`,
    },
    width: 520,
    height: 420,
    layer: [
      {
        data: { values: points },
        mark: { type: 'circle', size: 14, opacity: 0.7 },
        encoding: {
          x: { field: 'x', type: 'quantitative', axis: null, scale: { zero: false } },
          y: { field: 'y', type: 'quantitative', axis: null, scale: { zero: false } },
          color: {
            field: 'cls',
            type: 'nominal',
            title: 'test class',
            scale: { scheme: classes <= 10 ? 'category10' : 'tableau20' },
            legend: classes <= 20 ? {} : null,
          },
          tooltip: [{ field: 'cls', title: 'class' }],
        },
      },
      ...(proxies.length
        ? [
            {
              data: { values: proxies },
              mark: { type: 'point' as const, shape: 'cross', size: 60, color: '#111', filled: true, opacity: 0.85 },
              encoding: {
                x: { field: 'x', type: 'quantitative' as const },
                y: { field: 'y', type: 'quantitative' as const },
                tooltip: [{ field: 'cls', title: 'proxy of training class' }],
              },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}
