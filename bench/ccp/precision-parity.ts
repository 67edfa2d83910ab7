// node dist/bench/ccp/precision-parity.js [--dir results/ccp/precision]
//
// The bf16-vs-float32 accuracy parity table (issue 12): reads the per-run records the study left in
// <dir>/runs/fp32 and <dir>/runs/bf16 (bench:ccp with --precision, same config otherwise), and writes
// <dir>/parity.md and <dir>/parity.json (the table plus every finished record, so a partial study is kept in
// git while the run folders are not). Parity per method: the bf16 mean MAP@R lies within the float32 seed
// spread (mean ± std) and within 0.5 points of the float32 mean. Methods with runs missing are listed as such.
// The paired difference (bf16 − float32 per seed, mean ± standard error) says whether a gap stands out of the
// run-to-run noise. Records of the previous parity.json are kept (run folders are not kept in git) for methods
// without run folders here, and for seeds not re-run of a method whose re-run seeds all reproduced their
// previous results exactly (the study is deterministic: same backbone, same code, same numbers); otherwise a
// method takes all its records from the folders, so one method's rows never mix two different studies.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from './study.js';
import { REPO_ROOT } from './main.js';

export const PRECISIONS = ['fp32', 'bf16'] as const;
export type StudyPrecision = (typeof PRECISIONS)[number];

export interface ParityRow {
  method: string;
  label: string;
  /** MAP@R in %, per precision: the seeds finished and mean ± std (n − 1). */
  byPrecision: Record<StudyPrecision, { seeds: number[]; mean: number; std: number }>;
  /** bf16 mean − float32 mean, points. */
  delta: number;
  /** Per seed run on both sides: bf16 − float32 (points); mean, standard error of the mean, and how many seeds. */
  paired: { mean: number; se: number; n: number };
  /** |delta| within the float32 seed std, and within 0.5 points. */
  withinSpread: boolean;
  withinHalfPoint: boolean;
  /** 'yes' (both) | 'no' | 'incomplete' (fewer than 2 seeds on a side, or different seeds). */
  parity: 'yes' | 'no' | 'incomplete';
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const std = (xs: number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)) : NaN);

/** Every test-run record under a runs folder (<runs>/<method>/<run>/study-record.json). */
export function readTestRecords(runsDir: string): RunRecord[] {
  if (!existsSync(runsDir)) return [];
  const out: RunRecord[] = [];
  for (const m of readdirSync(runsDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const r of readdirSync(join(runsDir, m.name), { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const file = join(runsDir, m.name, r.name, 'study-record.json');
      if (!existsSync(file)) continue;
      const rec = (JSON.parse(readFileSync(file, 'utf8')) as { record: RunRecord }).record;
      if (rec.purpose === 'test') out.push(rec);
    }
  }
  return out;
}

/** The parity table from the records of both precisions. */
export function parityRows(records: Record<StudyPrecision, RunRecord[]>): ParityRow[] {
  const methods = [...new Map([...records.fp32, ...records.bf16].map((r) => [r.method, r.label])).entries()].sort();
  return methods.map(([method, label]) => {
    const side = (p: StudyPrecision) => {
      const rs = records[p].filter((r) => r.method === method).sort((a, b) => a.seed - b.seed);
      const v = rs.map((r) => 100 * r.final.mapAtR);
      return { seeds: rs.map((r) => r.seed), mean: mean(v), std: std(v) };
    };
    const byPrecision = { fp32: side('fp32'), bf16: side('bf16') };
    const delta = byPrecision.bf16.mean - byPrecision.fp32.mean;
    const paired = pairedDifference(records, method);
    const complete = byPrecision.fp32.seeds.length >= 2 && byPrecision.fp32.seeds.join() === byPrecision.bf16.seeds.join();
    const withinSpread = Math.abs(delta) <= byPrecision.fp32.std;
    const withinHalfPoint = Math.abs(delta) <= 0.5;
    return {
      method,
      label,
      byPrecision,
      delta,
      paired,
      withinSpread,
      withinHalfPoint,
      parity: !complete ? 'incomplete' : withinSpread && withinHalfPoint ? 'yes' : 'no',
    };
  });
}

/** bf16 − float32 MAP@R (points) over the seeds run on both sides: mean ± standard error. */
function pairedDifference(records: Record<StudyPrecision, RunRecord[]>, method: string): ParityRow['paired'] {
  const at = (p: StudyPrecision) => new Map(records[p].filter((r) => r.method === method).map((r) => [r.seed, 100 * r.final.mapAtR]));
  const f = at('fp32');
  const b = at('bf16');
  const d = [...f.keys()].filter((s) => b.has(s)).map((s) => b.get(s)! - f.get(s)!);
  return { mean: mean(d), se: std(d) / Math.sqrt(d.length), n: d.length };
}

/**
 * The records to tabulate: those from the run folders, plus the previous table's records of (a) methods with no
 * run folder on either side and (b) seeds not re-run of methods whose re-run seeds (at least one, on both sides
 * taken together) all reproduced the previous test metrics exactly. A method that did not reproduce takes only
 * its fresh records.
 */
export function mergeRecords(
  fresh: Record<StudyPrecision, RunRecord[]>,
  previous: Record<StudyPrecision, RunRecord[]> | null,
): Record<StudyPrecision, RunRecord[]> {
  if (!previous) return fresh;
  const key = (p: StudyPrecision, r: RunRecord) => `${p}/${r.method}/${r.seed}`;
  const old = new Map(PRECISIONS.flatMap((p) => (previous[p] ?? []).map((r) => [key(p, r), r] as const)));
  const reproduced = new Map<string, boolean>();
  for (const p of PRECISIONS) {
    for (const r of fresh[p]) {
      const o = old.get(key(p, r));
      if (!o) continue;
      const same = JSON.stringify(o.final) === JSON.stringify(r.final);
      reproduced.set(r.method, (reproduced.get(r.method) ?? true) && same);
    }
  }
  const rerun = new Set([...fresh.fp32, ...fresh.bf16].map((r) => r.method));
  const keep = (p: StudyPrecision) => {
    const have = new Set(fresh[p].map((r) => key(p, r)));
    const kept = (previous[p] ?? []).filter((r) => !rerun.has(r.method) || (reproduced.get(r.method) === true && !have.has(key(p, r))));
    return [...fresh[p], ...kept].sort((a, b) => (a.method === b.method ? a.seed - b.seed : a.method < b.method ? -1 : 1));
  };
  return { fp32: keep('fp32'), bf16: keep('bf16') };
}

const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

export function parityMarkdown(rows: ParityRow[]): string {
  const lines = [
    '| Method | float32 MAP@R | bf16 MAP@R | seeds (fp32 / bf16) | bf16 − fp32 | paired Δ ± SE (seeds) | within fp32 spread | within 0.5 | parity |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const f = r.byPrecision.fp32;
      const b = r.byPrecision.bf16;
      return `| ${r.label} | ${num(f.mean)} ± ${num(f.std)} | ${num(b.mean)} ± ${num(b.std)} | ${f.seeds.join(',') || '–'} / ${b.seeds.join(',') || '–'} | ${num(r.delta)} | ${num(r.paired.mean)} ± ${num(r.paired.se)} (${r.paired.n}) | ${r.withinSpread ? 'yes' : 'no'} | ${r.withinHalfPoint ? 'yes' : 'no'} | ${r.parity} |`;
    }),
  ];
  return lines.join('\n');
}

export function main(argv: string[]): { markdown: string; json: string } {
  const i = argv.indexOf('--dir');
  const dir = resolve(i >= 0 && argv[i + 1] ? argv[i + 1]! : join(REPO_ROOT, 'results', 'ccp', 'precision'));
  const json = join(dir, 'parity.json');
  const previous = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as { records: Record<StudyPrecision, RunRecord[]> }).records : null;
  const records = mergeRecords({ fp32: readTestRecords(join(dir, 'runs', 'fp32')), bf16: readTestRecords(join(dir, 'runs', 'bf16')) }, previous);
  const rows = parityRows(records);
  const md = [
    '# bf16 vs float32 accuracy parity (Omniglot study)',
    '',
    `Generated by \`node dist/bench/ccp/precision-parity.js\` on ${new Date().toISOString().slice(0, 10)} from the per-run records of`,
    '`bench:ccp --precision fp32|bf16` (test MAP@R on the evaluation alphabets, %, mean ± std over the seeds finished).',
    'Parity: |bf16 − fp32| within the float32 seed spread and within 0.5 points; "incomplete" while fewer than two',
    'seeds, or not the same seeds, have finished on both sides. Paired Δ: bf16 − float32 per seed, mean ± standard',
    'error (the run-to-run noise of the difference). Records of the previous parity.json are kept for methods',
    'without run folders at generation, and for seeds not re-run of methods whose re-run seeds reproduced their',
    'previous test metrics exactly.',
    '',
    parityMarkdown(rows),
    '',
  ].join('\n');
  const markdown = join(dir, 'parity.md');
  writeFileSync(markdown, md);
  writeFileSync(json, JSON.stringify({ rows, records }, null, 2) + '\n');
  return { markdown, json };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = main(process.argv.slice(2));
  process.stdout.write(readFileSync(files.markdown, 'utf8') + `\nwrote ${files.markdown}, ${files.json}\n`);
}
