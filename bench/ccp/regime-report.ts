// results/ccp/regimes.md and regimes.json from whatever records the sweep has made so far: a table per regime
// (MAP@R mean ± std, Δ CCP − base, projections, steps run), the overview of Δ per loss and regime, and the ablation
// table; cells not run yet say so, so partial results are presentable.
import { groupJobs, summarizeCell, delta, PROJECTION_WINDOW, type CellSummary, type Delta, type ProjectionEffect } from './regime-summary.js';
import { ABLATION_METHOD, ABLATION_REGIMES, ABLATION_VARIANTS, CUT_TO_FIT, regimes, SWEEP_METHOD_IDS } from './regimes.js';
import type { SweepJob } from './regime-jobs.js';
import type { RunRecord } from './study.js';
import type { PlanLine } from './regime-plan.js';

export interface RegimeReport {
  generatedAt: string;
  regimes: { id: string; title: string; what: string; lrs: Record<string, number>; cells: Record<string, CellSummary>; deltas: Record<string, Delta> }[];
  ablation: {
    method: string;
    regimes: string[];
    rows: { id: string; label: string; ccp: Record<string, unknown>; cells: Record<string, CellSummary>; deltas: Record<string, Delta> }[];
  };
  cutToFit: string[];
  /** Runs planned / done per block and the predicted time left (reference speed), when the caller gives them. */
  plan?: PlanLine[];
}

const LOSSES = SWEEP_METHOD_IDS.filter((id) => !id.endsWith('-ccp'));

function cells(jobs: SweepJob[], lookup: (j: SweepJob) => RunRecord | null): Map<string, CellSummary> {
  const out = new Map<string, CellSummary>();
  for (const [k, js] of groupJobs(jobs, (j) => `${j.block}|${j.method.id}`)) out.set(k, summarizeCell(js, js.map(lookup)));
  return out;
}

export function buildReport(jobs: SweepJob[], lookup: (j: SweepJob) => RunRecord | null, now = new Date(), plan?: PlanLine[]): RegimeReport {
  const all = cells(jobs, lookup);
  const empty = (planned = 0): CellSummary => summarizeCell(Array.from({ length: planned }), []);
  const get = (block: string, method: string) => all.get(`${block}|${method}`) ?? empty();
  const regimeRows = regimes().map((r) => {
    const cs: Record<string, CellSummary> = Object.fromEntries(SWEEP_METHOD_IDS.map((m) => [m, get(r.id, m)]));
    const deltas: Record<string, Delta> = Object.fromEntries(LOSSES.map((l) => [l, delta(cs[`${l}-ccp`]!, cs[l]!)]));
    return { id: r.id, title: r.title, what: r.what, lrs: r.lrs, cells: cs, deltas };
  });
  const ablRegimes = [...ABLATION_REGIMES];
  const baseRow = (id: string, label: string, method: string) => {
    const cs = Object.fromEntries(ablRegimes.map((r) => [r, get(r, method)]));
    return { id, label, ccp: {}, cells: cs, deltas: Object.fromEntries(ablRegimes.map((r) => [r, delta(cs[r]!, get(r, ABLATION_METHOD))])) };
  };
  const rows = [
    baseRow('c2', 'C2 without CCP', 'c2'),
    baseRow('c2-ccp', "C2-CCP with the regime's options", ABLATION_METHOD),
    ...ABLATION_VARIANTS.map((v) => {
      const cs = Object.fromEntries(ablRegimes.map((r) => [r, get(`ablation-${r}/${v.id}`, ABLATION_METHOD)]));
      return {
        id: v.id,
        label: v.label,
        ccp: v.ccp,
        cells: cs,
        deltas: Object.fromEntries(ablRegimes.map((r) => [r, delta(cs[r]!, get(r, ABLATION_METHOD))])),
      };
    }),
  ];
  return {
    generatedAt: now.toISOString(),
    regimes: regimeRows,
    ablation: { method: ABLATION_METHOD, regimes: ablRegimes, rows },
    cutToFit: [...CUT_TO_FIT],
    ...(plan ? { plan } : {}),
  };
}

function fmtCell(c: CellSummary): string {
  if (c.blocked) return 'not run (option missing)';
  if (c.done === 0) return 'not run';
  const v = `${c.mapAtR!.toFixed(2)}${c.std !== null ? ` ± ${c.std.toFixed(2)}` : ''}`;
  return c.done < c.planned ? `${v} (${c.done}/${c.planned} seeds)` : v;
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;

function fmtDelta(d: Delta): string {
  if (d.points === null) return '–';
  const p = d.paired && d.paired.n >= 2 ? ` (paired ${signed(d.paired.mean)} ± ${d.paired.std!.toFixed(2)}, n ${d.paired.n})` : '';
  return signed(d.points) + p;
}

const lrText = (lr: number) => lr.toExponential(0).replace('+', '');
const num = (x: number | null, digits = 0) => (x === null ? '–' : x.toFixed(digits));
const stops = (c: CellSummary) =>
  Object.entries(c.stopReasons)
    .map(([k, n]) => `${k === 'early-stopping' ? 'ES' : k === 'max-epochs' ? 'cap' : k} ${n}`)
    .join(', ') || '–';

function regimeTable(r: RegimeReport['regimes'][number]): string[] {
  const lines = [
    `| Loss | LR base / CCP | base MAP@R | CCP MAP@R | Δ CCP − base | CCP projections | steps run base / CCP | best step base / CCP | stop base / CCP |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const l of LOSSES) {
    const b = r.cells[l]!;
    const c = r.cells[`${l}-ccp`]!;
    lines.push(
      `| ${l === 'triplet' ? 'Triplet' : l.toUpperCase()} | ${lrText(r.lrs[l]!)} / ${lrText(r.lrs[`${l}-ccp`]!)} | ${fmtCell(b)} | ${fmtCell(c)} | ${fmtDelta(r.deltas[l]!)} | ${num(c.projections, 1)} | ` +
        `${num(b.steps)} / ${num(c.steps)} | ${num(b.bestStep)} / ${num(c.bestStep)} | ${stops(b)} / ${stops(c)} |`,
    );
  }
  return lines;
}

function ablationTable(a: RegimeReport['ablation']): string[] {
  const head = a.regimes.map((r) => `(${r}) MAP@R | (${r}) Δ vs C2-CCP | (${r}) projections`).join(' | ');
  const lines = [`| Variant | ${head} |`, `|---|${a.regimes.map(() => '---|---|---|').join('')}`];
  for (const row of a.rows) {
    const cols = a.regimes.map((r) => {
      const c = row.cells[r]!;
      const d = row.id === 'c2-ccp' ? '(reference)' : fmtDelta(row.deltas[r]!);
      return `${fmtCell(c)} | ${d} | ${num(c.projections, 1)}`;
    });
    lines.push(`| ${row.label} | ${cols.join(' | ')} |`);
  }
  return lines;
}

function fmtEffect(e: ProjectionEffect | null): string {
  if (!e) return '–';
  return `${signed(e.after.mean)} / ${e.elsewhere ? signed(e.elsewhere.mean) : '–'} (n ${e.after.n})`;
}

/** Validation MAP@R after projections, per regime and CCP loss, with the ablation's projections-off runs as control. */
function projectionEffectTable(rep: RegimeReport): string[] {
  const lines = [
    `| Runs | ${LOSSES.map((l) => `${l === 'triplet' ? 'Triplet' : l.toUpperCase()}-CCP`).join(' | ')} |`,
    `|---|${LOSSES.map(() => '---|').join('')}`,
    ...rep.regimes.map((r) => `| ${r.title.split(':')[0]} | ${LOSSES.map((l) => fmtEffect(r.cells[`${l}-ccp`]!.projectionEffect)).join(' | ')} |`),
  ];
  for (const row of rep.ablation.rows.filter((x) => (x.ccp as { projections?: boolean }).projections === false)) {
    for (const r of rep.ablation.regimes) {
      const cols = LOSSES.map((l) => (`${l}-ccp` === rep.ablation.method ? fmtEffect(row.cells[r]!.projectionEffect) : '–'));
      lines.push(`| (${r}) ${row.label} | ${cols.join(' | ')} |`);
    }
  }
  return lines;
}

function progressTable(plan: PlanLine[]): string[] {
  const left = plan.reduce((a, l) => a + l.secondsLeft, 0);
  return [
    '## Progress',
    '',
    `Runs done per block; the time left is predicted at the main study's step times (one thread, idle machine: ${(left / 3600).toFixed(1)} h in all; a loaded machine takes several times longer).`,
    '',
    '| block | runs | done | waiting for an option | predicted min left |',
    '|---|---|---|---|---|',
    ...plan.map((l) => `| ${l.block} | ${l.runs} | ${l.done} | ${l.blocked} | ${(l.secondsLeft / 60).toFixed(0)} |`),
    '',
  ];
}

export function markdownRegimes(rep: RegimeReport, command: string): string {
  const out = [
    '# When does CCP help? Regime sweep and ablation on Omniglot',
    '',
    `Generated by \`${command}\` (bench/ccp/regimes-main.ts) at ${rep.generatedAt}, from the run records made so far; cells marked "not run" or "k/3 seeds" are still to come (the same command resumes the sweep).`,
    '',
    'Test MAP@R (%) on the 659 evaluation-alphabet classes, mean ± std over seeds (std with n − 1); Δ = difference of the means, and in brackets the mean ± std of the per-seed differences (same seed, same batches until the losses diverge). Steps run: mean over seeds; "cap" = the run used its whole step budget, "ES" = global early stopping ended it. Every run tests the weights of its best validation epoch.',
    '',
    '## Overview: Δ MAP@R (CCP − base) per loss and regime',
    '',
    `| Regime | ${LOSSES.map((l) => (l === 'triplet' ? 'Triplet' : l.toUpperCase())).join(' | ')} |`,
    `|---|${LOSSES.map(() => '---|').join('')}`,
    ...rep.regimes.map((r) => `| ${r.title} | ${LOSSES.map((l) => fmtDelta(r.deltas[l]!)).join(' | ')} |`),
  ];
  for (const r of rep.regimes) out.push('', `## ${r.title}`, '', r.what + '.', '', ...regimeTable(r));
  out.push(
    '',
    `## Ablation on C2-CCP, in (a) where CCP helps C2 and (a0) where it hurts`,
    '',
    "Each variant changes one CCP option of the regime's C2-CCP (same LR, budget, patience and seeds); Δ is against the regime's C2-CCP.",
    '',
    ...ablationTable(rep.ablation),
    '',
    '## What a projection does to validation MAP@R',
    '',
    `Change of validation MAP@R (points) over the next ${PROJECTION_WINDOW} validations after an epoch that ended a problem, then after every other epoch, pooled over the seeds run (n = problems ended). A problem ends on a plateau, so part of any rise after it is regression to the mean; the projections-off rows (problems still end and move the λ anchor, the proxies are not re-placed) are the control.`,
    '',
    ...projectionEffectTable(rep),
    '',
    '## Cut to fit the time budget',
    '',
    ...rep.cutToFit.map((c) => `- ${c}`),
    '',
  );
  if (rep.plan) out.push(...progressTable(rep.plan));
  return out.join('\n');
}
