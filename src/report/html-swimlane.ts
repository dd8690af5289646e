/**
 * The HTML report's schedules section for `interleave` runs: how the schedules were explored, and each
 * of the first failing schedules as a swimlane — one column per request, one row per step in the order
 * the scheduler released them, so the interleaving reads top to bottom.
 */
import type { StepRow } from '../interleave/step-row.js';
import { interleaveOverview } from './interleave.js';
import type { RunReport } from './types.js';

const SHOWN = 3;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function stepCell(s: StepRow): string {
  const params = s.params?.length
    ? `<div class="muted">${esc(s.params.map((p) => `[${p.map((v) => (v === null ? 'NULL' : v)).join(', ')}]`).join(' '))}</div>`
    : '';
  const result = `<div class="${s.sqlstate ? 'fail' : 'muted'}">→ ${esc(s.result)}${s.blocked ? ' <b>(was blocked)</b>' : ''}</div>`;
  return `<code>${esc(s.sql.join('; '))}</code>${params}${result}`;
}

/** A swimlane table for one schedule's steps. */
export function swimlane(steps: readonly StepRow[], requests: number): string {
  const lanes = Array.from({ length: requests }, (_, i) => i);
  const head = `<tr><th>#</th>${lanes.map((i) => `<th>request ${i}</th>`).join('')}</tr>`;
  const rows = steps.map(
    (s) =>
      `<tr><td>${s.order}</td>${lanes.map((i) => (i === s.request ? `<td class="lane">${stepCell(s)}</td>` : '<td></td>')).join('')}</tr>`,
  );
  return `<table class="swimlane"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The section, or '' for a run that is not `interleave`. */
export function schedulesSection(r: RunReport): string {
  const il = interleaveOverview(r);
  if (!il) return '';
  const parts = [
    `<section><h2>Schedules</h2><p class="meta">${esc(il.mode)}: <b>${il.schedules} schedules</b>, ${il.distinctOutcomes} distinct outcomes, ${il.failing.length} failing.</p>`,
  ];
  for (const t of il.failing.slice(0, SHOWN)) {
    const x = t.load.interleave!;
    parts.push(
      `<h3>Failing schedule <code>${esc(x.schedule)}</code> (<a href="#trial-${t.trial}">trial ${t.trial}</a>, ${x.preemptions} preemption${x.preemptions === 1 ? '' : 's'})</h3>`,
      `<div class="scroll">${swimlane(x.steps, t.load.requests)}</div>`,
      `<p class="muted">replay: <code>whatbreaks replay &lt;this run&gt; --schedule ${esc(x.schedule)}</code></p>`,
    );
  }
  if (il.failing.length > SHOWN)
    parts.push(`<p class="muted">${il.failing.length - SHOWN} more failing schedules in report.json.</p>`);
  parts.push('</section>');
  return parts.join('\n');
}
