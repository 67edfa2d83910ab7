// Assembles the report page: one HTML file with inline SVG figures, inline thumbnails and inline CSS, so it opens
// from disk with no server and no network.
export interface ReportSection {
  id: string;
  title: string;
  html: string;
}

export interface ReportFigure {
  /** Element id and file name (figures/<id>.svg). */
  id: string;
  svg: string;
  caption: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function figureHtml(f: ReportFigure): string {
  // Vega's SVG starts with its own XML-free <svg> element: it embeds as is.
  return `<figure id="${f.id}" class="figure">${f.svg}<figcaption>${escapeHtml(f.caption)}</figcaption></figure>`;
}

/** A table from a header row and body rows (cells are escaped). */
export function tableHtml(header: readonly string[], rows: readonly (readonly (string | number)[])[], id?: string): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('\n');
  return `<table${id ? ` id="${id}"` : ''}><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1180px; padding: 1em 2em 4em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
nav a { margin-right: 1em; } .muted { color: #666; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; } th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.figures { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; } figure { margin: 0; } figcaption { font-size: 0.85em; color: #555; max-width: 560px; }
pre { background: #f7f7f7; padding: 0.8em; overflow: auto; max-height: 32em; font-size: 0.85em; }
.grid-row { display: flex; align-items: center; gap: 4px; margin: 6px 0; } .arrow { font-size: 1.4em; color: #888; padding: 0 4px; }
.cell { display: flex; flex-direction: column; align-items: center; border: 3px solid transparent; padding: 1px; font-size: 0.72em; }
.cell img { width: 72px; height: 72px; object-fit: contain; background: #000; image-rendering: pixelated; }
.cell.query { border-color: #4c78a8; } .cell.hit { border-color: #2ca02c; } .cell.miss { border-color: #d62728; }
`;

export function reportPageHtml(title: string, subtitle: string, sections: readonly ReportSection[]): string {
  const nav = sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('');
  const body = sections.map((s) => `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><p class="muted">${escapeHtml(subtitle)}</p><nav>${nav}</nav>
${body}
</body></html>
`;
}
