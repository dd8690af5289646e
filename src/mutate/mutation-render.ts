/**
 * The mutation report for people: terminal lines, `mutation.md` and the mutation section of verify.md
 * (docs/mutants.md); `mutation.html` is in mutation-html.ts. Plain text; the terminal adds no colour so
 * the same lines fit logs.
 */
import type { MutationReport } from './mutation-run.js';
import { SURVIVOR_MEANING } from './mutation-run.js';

/** Score line: `mutation score 2/3 (67%), 1 unknown not counted`. */
export function scoreLine(r: MutationReport): string {
  const judged = r.killed + r.survived;
  const score = r.score === null ? 'n/a' : `${r.killed}/${judged} (${(r.score * 100).toFixed(0)}%)`;
  return `mutation score ${score}: ${r.killed} killed, ${r.survived} survived${r.unknown ? `, ${r.unknown} unknown (not counted)` : ''}`;
}

/** The report as Markdown (`mutation.md`). */
export function renderMutationMarkdown(r: MutationReport): string {
  return [`# Mutants of ${r.scenario} [${r.variant}]`, '', renderMutationMarkdownBody(r, 2)].join('\n');
}

/**
 * Everything below the title: score line, problem, per-mutant table, what a survivor means, each kill's
 * trial (and schedule) and witnesses, refused points, unparsed statements. Sub-headings at `level`
 * (`##` in mutation.md, deeper inside verify.md).
 */
export function renderMutationMarkdownBody(r: MutationReport, level: number): string {
  const h = '#'.repeat(level);
  const lines = [scoreLine(r), ''];
  if (r.discovery.problem) lines.push(`**No mutant was run:** ${r.discovery.problem}`, '');
  lines.push(`Discovery: ${r.discovery.statements} distinct statement(s) seen (${r.discovery.runDir}).`, '');
  if (r.mutants.length) {
    lines.push(
      '| mutant | clause removed | seen | outcome | trials (pass/fail/unknown) | why |',
      '|---|---|---|---|---|---|',
    );
    for (const m of r.mutants) {
      lines.push(
        `| \`${cell(m.label)}\`${m.kind ? ` (${cell(m.kind)})` : ''} | \`${cell(m.clause)}\` | ${m.kind === 'schema' ? `schema: ${cell(m.file ?? '')}` : m.seen} | **${m.outcome}** | ${m.trials.passed}/${m.trials.failed}/${m.trials.unknown + m.trials.aborted} | ${cell(m.reason)} |`,
      );
    }
    lines.push('');
  }
  if (r.survived) lines.push(`A survivor means ${SURVIVOR_MEANING}. Only a person can tell which.`, '');
  for (const m of r.mutants) {
    const k = m.killedBy;
    if (!k) continue;
    lines.push(
      `${h} ${m.label}: killed in ${k.schedule ? `schedule \`${k.schedule}\` (trial ${k.trial})` : `trial ${k.trial}`}`,
      '',
    );
    if (k.replay) lines.push(`Replay it (same mutant, same schedule): \`${k.replay}\``, '');
    for (const i of k.invariants) {
      lines.push(`- ${i.name}: ${i.summary}`);
      for (const w of i.witnesses) lines.push(`  - \`${cell(JSON.stringify(w))}\``);
    }
    lines.push('');
  }
  if (r.discovery.refused.length) {
    lines.push(`${h} Refused points`, '');
    for (const p of r.discovery.refused) lines.push(`- \`${cell(p.label)}\`: ${p.reason}`);
    lines.push('');
  }
  const schema = r.discovery.schema;
  if (schema?.refused.length) {
    lines.push('## Refused constraints', '');
    for (const c of schema.refused)
      lines.push(`- \`${cell(c.id)}\` (${cell(c.clause)} on ${c.table}, ${cell(c.file)}): ${c.reason}`);
    lines.push('');
  }
  if (schema?.unparsed.length) {
    lines.push('## Schema files the parser cannot read (no constraint mutant from them)', '');
    for (const u of schema.unparsed) lines.push(`- \`${cell(u.file)}\`: ${u.error}`);
    lines.push('');
  }
  if (r.discovery.unparsed.length) {
    lines.push(`${h} Statements the parser cannot read (passed through unchanged)`, '');
    for (const u of r.discovery.unparsed) lines.push(`- \`${cell(u.sql)}\` (${u.count}×): ${u.error}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Terminal lines: one per mutant, then unparsed statements. */
export function renderMutationTerminal(r: MutationReport): string {
  const lines: string[] = [];
  if (r.discovery.problem) lines.push(`no mutant was run: ${r.discovery.problem}`);
  for (const m of r.mutants) {
    lines.push(`${m.outcome.toUpperCase().padEnd(8)} ${m.label}`, `         ${m.reason}`);
    if (m.killedBy?.replay) lines.push(`         replay: ${m.killedBy.replay}`);
  }
  for (const u of r.discovery.unparsed)
    lines.push(`UNPARSED ${oneLine(u.sql)} (${u.count}×, passed through): ${u.error}`);
  for (const p of r.discovery.refused) lines.push(`REFUSED  ${p.label}: ${p.reason}`);
  for (const u of r.discovery.schema?.unparsed ?? [])
    lines.push(`UNPARSED schema file ${u.file} (no constraint mutant from it): ${u.error}`);
  for (const c of r.discovery.schema?.refused ?? []) lines.push(`REFUSED  ${c.id} (${c.file}): ${c.reason}`);
  lines.push(scoreLine(r));
  return lines.join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function cell(s: string): string {
  return oneLine(s).replace(/\|/g, '\\|').replace(/`/g, "'");
}
