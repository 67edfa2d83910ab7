// A vega-lite spec to an SVG string: compiled to vega and rendered headless (no browser, no canvas), so the
// figures can be written at the end of a training run.
import { compile, type TopLevelSpec } from 'vega-lite';
import { View, parse } from 'vega';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
