// The retrieval grid: one row per shown query, its thumbnail then its top-k neighbours, each marked hit (green)
// or miss (red) with its distance; as an HTML fragment with the thumbnails inlined.
import type { ShownQuery } from './retrieval-analysis.js';
import { escapeHtml } from './html.js';

export interface GridImages {
  query: Map<number, string>;
  reference: Map<number, string>;
  queryClass: (index: number) => string;
  referenceClass: (index: number) => string;
}

function cell(src: string, caption: string, cls: string, title: string): string {
  return `<div class="cell ${cls}" title="${escapeHtml(title)}"><img src="${src}" alt="${escapeHtml(title)}"><span>${escapeHtml(caption)}</span></div>`;
}

export function retrievalGridHtml(heading: string, queries: readonly ShownQuery[], img: GridImages): string {
  const rows = queries.map((q) => {
    const cls = img.queryClass(q.index);
    const head = cell(img.query.get(q.index)!, `${cls} · AP@R ${q.apAtR.toFixed(2)}`, 'query', `query #${q.index}, class ${cls}`);
    const hits = q.neighbours.map((n, j) =>
      cell(
        img.reference.get(n.index)!,
        `${n.hit ? '✓' : '✗'} ${n.distance.toFixed(3)}`,
        n.hit ? 'hit' : 'miss',
        `rank ${j + 1}: #${n.index}, class ${img.referenceClass(n.index)}, distance ${n.distance.toFixed(4)}`,
      ),
    );
    return `<div class="grid-row">${head}<div class="arrow">→</div>${hits.join('')}</div>`;
  });
  return `<div class="retrieval-grid"><h3>${escapeHtml(heading)}</h3>${rows.join('\n')}</div>`;
}
