import type { InvariantResult } from '../invariants/types.js';
import { wilsonInterval } from '../stats/wilson.js';
import { interleaveOverview, stepTableMarkdown } from './interleave.js';
import type { RunReport, TrialVerdict } from './types.js';

/**
 * `report.md`: GitHub-flavoured Markdown for people reading CI output (`cat report.md >>
 * "$GITHUB_STEP_SUMMARY"`). Verdict first, then one table per concern: invariants across trials,
 * trials with their load numbers, witnesses of each violation (first 10 per invariant and trial;
 * report.json keeps up to 100). Plain tables only, no HTML, so it reads as text too.
 */

/** Witness rows per table. */
const WITNESS_ROWS = 10;
/** Witness tables in total, so a 1000-trial run stays a readable summary (GitHub caps it at 1 MiB). */
const WITNESS_TABLES = 20;

const ICON: Record<TrialVerdict, string> = { pass: '✅', fail: '❌', unknown: '⚠️', aborted: '⏹️' };

/** Escape a value for one Markdown table cell (pipes, newlines, backticks, angle brackets). */
export function mdCell(v: unknown, maxChars = 200): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  s = s.replace(/\s+/g, ' ').trim();
  if (s.length > maxChars) s = `${s.slice(0, maxChars)}…`;
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/`/g, '\\`');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)} %`;
}

function ms(x: number | undefined): string {
  return x === undefined ? '–' : x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`;
}

/**
 * A fenced code block holding `text` verbatim (log lines keep their lines); the fence is longer than any
 * run of backticks inside, as CommonMark allows.
 */
export function codeBlock(text: string, maxChars = 4000): string {
  const body = text.length > maxChars ? `${text.slice(0, maxChars)}\n…` : text;
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${body}\n${fence}`;
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function witnessesMarkdown(inv: InvariantResult, rows = WITNESS_ROWS): string {
  const shown = inv.witnesses.slice(0, rows);
  if (shown.length === 0) return '';
  const cols = [...new Set(shown.flatMap((w) => Object.keys(w)))];
  const t = table(
    cols.map((c) => mdCell(c)),
    shown.map((w) => cols.map((c) => mdCell(w[c]))),
  );
  const more = inv.witnessCount - shown.length;
  return more > 0 ? `${t}\n\n_${more} more witness${more === 1 ? '' : 'es'} in report.json._` : t;
}

export function renderMarkdown(r: RunReport): string {
  const s = r.summary;
  const counted = s.trials - (s.aborted ?? 0);
  const rate = wilsonInterval(s.failed, counted);
  const out: string[] = [];
  out.push(
    `## ${ICON[r.verdict]} ${mdCell(r.scenario.name)} [${mdCell(r.variant)}]: ${r.verdict.toUpperCase()}`,
    '',
  );
  if (r.scenario.description) out.push(`> ${mdCell(r.scenario.description, 1000)}`, '');
  if (r.mutant)
    out.push(
      `**Mutant** \`${mdCell(r.mutant.label)}\`: \`${mdCell(r.mutant.clause)}\` removed from the candidate (whatbreaks mutate).`,
      '',
    );
  out.push(
    `**${s.trials} trial${s.trials === 1 ? '' : 's'}**: ${s.passed} passed, ${s.failed} failed, ${s.unknown} unknown${s.aborted ? `, ${s.aborted} aborted` : ''} · ` +
      // No rate, no interval when no trial counts (a run that broke off before its first trial).
      (counted > 0
        ? `reproduction rate **${pct(s.reproductionRate)}** (95 % Wilson interval ${pct(rate.low)}–${pct(rate.high)}) · `
        : '') +
      `${r.environment.kind} environment · ${(r.durationMs / 1000).toFixed(1)} s`,
    '',
  );
  if (r.aborted) out.push('> **Interrupted**: this report holds the trials that finished.', '');
  if (r.error) {
    // The message's first line in the quote; what follows (a target's last log lines) as a code block, line by line.
    const [first = '', ...rest] = r.error.message.split('\n');
    out.push(`> **Error \`${mdCell(r.error.code)}\`**: ${mdCell(first, 2000)}`);
    if (r.error.hint) out.push(`>`, `> hint: ${mdCell(r.error.hint, 1000)}`);
    out.push('');
    if (rest.length > 0) out.push(codeBlock(rest.join('\n')), '');
  }

  const names = [...new Set(r.trials.flatMap((t) => t.invariants.map((i) => i.name)))];
  if (names.length > 0) {
    out.push('### Invariants', '');
    out.push(
      table(
        ['invariant', 'type', 'held', 'violated', 'unknown', 'first violation'],
        names.map((name) => {
          const results = r.trials.flatMap((t) =>
            t.invariants.filter((i) => i.name === name).map((i) => ({ t, i })),
          );
          const first = results.find(({ i }) => i.holds === false);
          return [
            `\`${mdCell(name)}\``,
            mdCell(results[0]?.i.type),
            String(results.filter(({ i }) => i.holds === true).length),
            String(results.filter(({ i }) => i.holds === false).length),
            String(results.filter(({ i }) => i.holds === 'unknown').length),
            first ? `trial ${first.t.trial}: ${mdCell(first.i.summary)}` : '',
          ];
        }),
      ),
      '',
    );
  }

  if (r.trials.length > 0) {
    out.push('### Trials', '');
    out.push(
      table(
        [
          'trial',
          'verdict',
          'requests',
          'statuses',
          'p50',
          'p99',
          'max',
          'send spread',
          'arrival spread',
          'notes',
        ],
        r.trials.map((t) => [
          String(t.trial),
          `${ICON[t.verdict]} ${t.verdict}`,
          `${t.load.requests}${t.load.sync ? ` (${mdCell(t.load.sync)})` : ''}`,
          Object.entries(t.load.statusCounts)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, n]) => `${mdCell(k)}×${n}`)
            .join(' '),
          ...(t.load.latency.count === 0
            ? [t.load.requests === 0 ? 'no requests' : 'no responses', '–', '–']
            : [ms(t.load.latency.p50), ms(t.load.latency.p99), ms(t.load.latency.max)]),
          ms(t.load.sendSpreadMs),
          ms(t.load.arrivalSpreadMs),
          mdCell([t.inconclusive, t.error, ...t.load.warnings].filter(Boolean).join('; ')),
        ]),
      ),
      '',
    );
  }

  const il = interleaveOverview(r);
  if (il) {
    out.push('### Schedules', '');
    out.push(`${il.mode}: **${il.schedules} schedules**, ${il.distinctOutcomes} distinct outcomes.`, '');
    for (const t of il.failing.slice(0, 3)) {
      const x = t.load.interleave!;
      out.push(
        `**Failing schedule \`${mdCell(x.schedule)}\`** (trial ${t.trial}, ${x.preemptions} preemption${x.preemptions === 1 ? '' : 's'}):`,
        '',
        stepTableMarkdown(x.steps, (v) => mdCell(v)),
        '',
      );
    }
  }

  const violations = r.trials.flatMap((t) =>
    t.invariants.filter((i) => i.holds !== true && i.witnesses.length > 0).map((i) => ({ t, i })),
  );
  if (violations.length > 0) {
    out.push('### Witnesses', '');
    for (const { t, i } of violations.slice(0, WITNESS_TABLES)) {
      out.push(
        `**Trial ${t.trial} · \`${mdCell(i.name)}\`**: ${mdCell(i.summary, 500)}`,
        '',
        witnessesMarkdown(i),
        '',
      );
    }
    if (violations.length > WITNESS_TABLES) {
      out.push(
        `_${violations.length - WITNESS_TABLES} more witness tables in report.json / report.html._`,
        '',
      );
    }
  }
  out.push(
    `<sub>whatbreaks ${mdCell(r.tool.version)} · scenario \`${mdCell(r.scenario.file)}\` · started ${mdCell(r.startedAt)}</sub>`,
    '',
  );
  return out.join('\n');
}
