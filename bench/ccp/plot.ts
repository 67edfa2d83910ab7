// Validation MAP@R over training, one panel per loss family, mean over seeds, CCP projections marked. Rendered
// headless to SVG with vega-lite + vega (pure JavaScript, no canvas or browser needed for SVG).
import { compile, type TopLevelSpec } from 'vega-lite';
import { View, parse } from 'vega';
import type { RunRecord } from './study.js';
import { STUDY_METHODS } from './methods.js';

const FAMILY: Record<string, string> = { c1: 'C1', c2: 'C2', ms: 'MS', triplet: 'Triplet' };

function family(methodId: string): string {
  const m = STUDY_METHODS.find((x) => x.id === methodId);
  if (!m) return methodId;
  return FAMILY[m.base] ?? 'Proxy baselines';
}

export interface CurvePoint {
  method: string;
  family: string;
  step: number;
  valMapAtR: number;
  kind: 'mean' | 'projection';
  seed?: number;
}

/** The plotted points: per method, the mean over seeds at every epoch all seeds reached; each projection. */
export function curvePoints(runs: RunRecord[]): CurvePoint[] {
  const out: CurvePoint[] = [];
  const test = runs.filter((r) => r.purpose === 'test');
  for (const id of [...new Set(test.map((r) => r.method))]) {
    const rs = test.filter((r) => r.method === id);
    const label = rs[0]!.label;
    const n = Math.min(...rs.map((r) => r.curve.length));
    for (let e = 0; e < n; e++) {
      const step = rs.reduce((a, r) => a + r.curve[e]!.step, 0) / rs.length;
      const v = rs.reduce((a, r) => a + r.curve[e]!.valMapAtR, 0) / rs.length;
      out.push({ method: label, family: family(id), step, valMapAtR: v, kind: 'mean' });
    }
    for (const r of rs) {
      for (const p of r.projections) {
        const point = r.curve.find((c) => c.epoch === p.epoch);
        if (point) out.push({ method: label, family: family(id), step: point.step, valMapAtR: point.valMapAtR, kind: 'projection', seed: r.seed });
      }
    }
  }
  return out;
}

export async function validationPlotSvg(runs: RunRecord[], title: string): Promise<string> {
  const values = curvePoints(runs);
  const order = STUDY_METHODS.map((m) => m.label).filter((l) => values.some((v) => v.method === l));
  const familyOrder = ['C1', 'C2', 'MS', 'Triplet', 'Proxy baselines'].filter((f) => values.some((v) => v.family === f));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: 'lines: mean over seeds of the per-epoch validation MAP@R; ▼: a CCP projection (one per seed and projection)' },
    data: { values: values as unknown as Record<string, unknown>[] },
    facet: { field: 'family', type: 'nominal', sort: familyOrder, title: null },
    columns: Math.min(3, familyOrder.length),
    spec: {
      width: 260,
      height: 180,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'line', point: { size: 14 } },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'training step' },
            y: { field: 'valMapAtR', type: 'quantitative', title: 'validation MAP@R', scale: { zero: false } },
            color: { field: 'method', type: 'nominal', sort: order, scale: { scheme: 'tableau20' }, title: 'method' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'projection'" }],
          mark: { type: 'point', shape: 'triangle-down', size: 70, filled: true, opacity: 0.85 },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'valMapAtR', type: 'quantitative' },
            color: { field: 'method', type: 'nominal', sort: order },
          },
        },
      ],
    },
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
