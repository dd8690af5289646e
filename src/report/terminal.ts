import pc from 'picocolors';
import type { InvariantResult } from '../invariants/types.js';
import { interleaveOverview, stepTableLines } from './interleave.js';
import type { RunReport, TrialReport, TrialVerdict } from './types.js';

/** Witnesses printed per violated invariant; report.json keeps up to 100. */
const WITNESSES_SHOWN = 10;

export interface TerminalOptions {
  /** Colours (default: only when stdout is a TTY and NO_COLOR is unset). */
  color?: boolean;
}

function paint(color: boolean) {
  const id = (s: string) => s;
  return color ? pc : { red: id, green: id, yellow: id, bold: id, dim: id, cyan: id };
}

function verdictLabel(v: TrialVerdict, c: ReturnType<typeof paint>): string {
  return v === 'pass'
    ? c.green('PASS')
    : v === 'fail'
      ? c.red('FAIL')
      : v === 'aborted'
        ? c.yellow('ABORTED')
        : c.yellow('UNKNOWN');
}

function holdsLabel(h: InvariantResult['holds'], c: ReturnType<typeof paint>): string {
  return h === true ? c.green('holds') : h === false ? c.red('VIOLATED') : c.yellow('unknown');
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? '-' : ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`;
}

function witnessLine(w: Record<string, unknown>): string {
  return Object.entries(w)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => {
      const text = typeof v === 'string' ? v.replace(/\s+/g, ' ') : JSON.stringify(v);
      return `${k}=${text.length > 160 ? `${text.slice(0, 160)}…` : text}`;
    })
    .join('  ');
}

/** One fault window of a trial: `fault kill-replica (replica 1) 5.00 s → end of trial: SIGKILL pid 4121`. */
function faultLine(f: NonNullable<TrialReport['faults']>[number], c: ReturnType<typeof paint>): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const when =
    f.outcome === 'skipped'
      ? `planned at ${s(f.startMs)}`
      : `${s(f.startMs)} → ${f.endMs === undefined ? 'end of trial' : s(f.endMs)}`;
  const label =
    f.outcome === 'failed'
      ? c.red('fault failed')
      : f.outcome === 'skipped'
        ? c.yellow('fault skipped')
        : c.cyan('fault');
  const what = [f.detail, f.error].filter(Boolean).join('; ');
  return `  ${label} ${f.type}${f.target ? ` (${f.target})` : ''} ${when}${what ? `: ${what}` : ''}`;
}

/**
 * Requests, statuses and latency of a trial's load: `200 requests (last-byte)  201×198 500×2  p50 1576 ms
 * p99 2796 ms`; `no requests` when none was sent and `no responses` when none was answered — never a
 * `p50 0.00 ms` made of nothing.
 */
export function loadFacts(t: TrialReport): string {
  const l = t.load;
  if (l.requests === 0 && (l.aggregate?.requests ?? 0) === 0) return 'no requests';
  const statuses = Object.entries(l.statusCounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
  const latency =
    l.latency.count === 0 ? 'no responses' : `p50 ${fmtMs(l.latency.p50)} p99 ${fmtMs(l.latency.p99)}`;
  const schedule = l.interleave ? `  schedule ${l.interleave.schedule}` : '';
  return `${l.requests} requests${l.sync ? ` (${l.sync})` : ''}  ${statuses}  ${latency}${schedule}`;
}

/** One trial: verdict, load numbers, each invariant with up to 10 witnesses. */
export function renderTrial(t: TrialReport, of: number, opts: TerminalOptions = {}): string {
  const c = paint(opts.color ?? false);
  const lines: string[] = [];
  const spread = [
    t.load.sendSpreadMs !== undefined ? `send spread ${fmtMs(t.load.sendSpreadMs)}` : '',
    t.load.arrivalSpreadMs !== undefined ? `arrival spread ${fmtMs(t.load.arrivalSpreadMs)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  lines.push(
    // An interleave run's `of` is its schedule budget: exploration usually ends well before it.
    `${c.bold(t.load.interleave ? `trial ${t.trial}` : `trial ${t.trial}/${of}`)} ${verdictLabel(t.verdict, c)}  ${loadFacts(t)}${spread ? `  ${spread}` : ''}`,
  );
  if (t.inconclusive) lines.push(`  ${c.yellow('inconclusive:')} ${t.inconclusive}`);
  if (t.error) lines.push(`  ${c.red('error:')} ${t.error}`);
  for (const w of t.load.warnings) lines.push(`  ${c.yellow('warning:')} ${w}`);
  for (const f of t.faults ?? []) lines.push(faultLine(f, c));
  for (const inv of t.invariants) {
    lines.push(`  ${holdsLabel(inv.holds, c)} ${c.bold(inv.name)} (${inv.type}): ${inv.summary}`);
    if (inv.holds !== true) {
      for (const w of inv.witnesses.slice(0, WITNESSES_SHOWN)) lines.push(c.dim(`      ${witnessLine(w)}`));
      if (inv.witnessCount > WITNESSES_SHOWN) {
        lines.push(c.dim(`      … ${inv.witnessCount - WITNESSES_SHOWN} more witnesses in report.json`));
      }
    }
  }
  return lines.join('\n');
}

/** The closing summary of a run. */
export function renderSummary(r: RunReport, reportFile: string, opts: TerminalOptions = {}): string {
  const c = paint(opts.color ?? false);
  const s = r.summary;
  const lines = [
    '',
    `${c.bold(r.scenario.name)} [${r.variant}] on ${r.environment.kind}: ${verdictLabel(r.verdict, c)}  ` +
      `${s.trials} trial${s.trials === 1 ? '' : 's'}: ${s.passed} passed, ${s.failed} failed, ${s.unknown} unknown${s.aborted ? `, ${s.aborted} aborted` : ''}` +
      // No rate when no trial counts (a run that broke off before its first trial): 0 % of nothing says nothing.
      `  (${s.trials - s.aborted > 0 ? `reproduction rate ${(s.reproductionRate * 100).toFixed(0)}%, ` : ''}${(r.durationMs / 1000).toFixed(1)} s)`,
  ];
  // A mutant's run: its verdict is about the candidate without that protection, not the candidate.
  if (r.mutant)
    lines.push(c.yellow(`  mutant: ${r.mutant.label} (${r.mutant.clause} removed from the candidate)`));
  const violated = new Map<string, number>();
  for (const t of r.trials) {
    for (const inv of t.invariants)
      if (inv.holds === false) violated.set(inv.name, (violated.get(inv.name) ?? 0) + 1);
  }
  for (const [name, n] of violated) lines.push(`  ${c.red('violated')} ${name} in ${n}/${s.trials} trials`);
  const il = interleaveOverview(r);
  if (il) {
    lines.push(
      `  interleave: ${il.mode}: ${il.schedules} schedules, ${il.distinctOutcomes} distinct outcomes`,
    );
    const first = il.failing[0];
    if (first) {
      const ids = il.failing.slice(0, 5).map((t) => t.load.interleave!.schedule);
      lines.push(
        `  ${c.red('failing schedules')} (${il.failing.length}; shortest, fewest preemptions first): ${ids.join('  ')}`,
      );
      const x = first.load.interleave!;
      lines.push(
        `  schedule ${x.schedule} (trial ${first.trial}, ${x.preemptions} preemption${x.preemptions === 1 ? '' : 's'}):`,
      );
      for (const l of stepTableLines(x.steps)) lines.push(`    ${l}`);
      lines.push(c.dim(`  replay it: whatbreaks replay ${reportFile} --schedule ${x.schedule}`));
    }
  }
  if (r.aborted) lines.push(c.yellow('  interrupted: the report holds the trials that finished'));
  if (r.error) {
    lines.push(c.red(`error [${r.error.code}]: ${r.error.message}`));
    if (r.error.hint) lines.push(`hint: ${r.error.hint}`);
  }
  lines.push(c.dim(`report: ${reportFile}`));
  return lines.join('\n');
}
