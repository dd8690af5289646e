/**
 * The interleave part of a report: how the schedules were explored, how many distinct outcomes they
 * gave, and the failing schedules — shortest, then fewest preemptions first — each as a step table.
 */
import type { StepRow } from '../interleave/step-row.js';
import type { RunReport, TrialReport } from './types.js';

export interface InterleaveOverview {
  /** `exhaustive within 2 preemptions`, `search stopped at maxSchedules (not exhaustive)`, `pinned schedule`. */
  mode: string;
  schedules: number;
  distinctOutcomes: number;
  /** Failing trials, shortest schedule first, then fewest preemptions. */
  failing: TrialReport[];
}

/** What one trial came to: each request's status (or error) and each invariant's verdict. */
export function outcomeKey(t: TrialReport): string {
  const statuses = t.load.records.map((r) => r.status ?? r.error ?? '?').join(',');
  const held = t.invariants.map((i) => `${i.name}=${i.holds}`).join(',');
  return `${t.verdict}|${statuses}|${held}`;
}

export function interleaveOverview(r: RunReport): InterleaveOverview | undefined {
  const x = r.interleave;
  if (!x) return undefined;
  const trials = r.trials.filter((t) => t.load.interleave);
  const mode = x.pinned
    ? 'one pinned schedule'
    : x.exhaustive
      ? `exhaustive within ${x.preemptionBound} preemption${x.preemptionBound === 1 ? '' : 's'}`
      : `search stopped at maxSchedules, not exhaustive (≤ ${x.preemptionBound} preemptions)`;
  const sampled = x.sampled > 0 ? ` + ${x.sampled} PCT-sampled` : '';
  const failing = trials
    .filter((t) => t.verdict === 'fail')
    .sort(
      (a, b) =>
        a.load.interleave!.steps.length - b.load.interleave!.steps.length ||
        a.load.interleave!.preemptions - b.load.interleave!.preemptions,
    );
  return {
    mode: `${mode}${sampled}`,
    schedules: trials.length,
    distinctOutcomes: new Set(trials.map(outcomeKey)).size,
    failing,
  };
}

function params(s: StepRow): string {
  return s.params
    ? s.params.map((p) => `[${p.map((v) => (v === null ? 'NULL' : v)).join(', ')}]`).join(' ')
    : '';
}

/** A step table as plain text lines (terminal). */
export function stepTableLines(steps: readonly StepRow[]): string[] {
  return steps.map(
    (s) =>
      `${String(s.order).padStart(3)}  req ${s.request}  ${s.sql.join('; ')}${s.params ? `  ${params(s)}` : ''}  → ${s.result}${s.blocked ? '  (was blocked)' : ''}`,
  );
}

/** A step table in Markdown; cells go through `cell` (the report's escaping). */
export function stepTableMarkdown(steps: readonly StepRow[], cell: (v: unknown) => string): string {
  const rows = steps.map(
    (s) =>
      `| ${s.order} | ${s.request} | \`${cell(s.sql.join('; '))}\` | ${cell(params(s))} | ${cell(s.result)}${s.blocked ? ' (was blocked)' : ''} |`,
  );
  return ['| # | request | SQL | params | result |', '|---:|---:|---|---|---|', ...rows].join('\n');
}
