import { renderMutationMarkdownBody } from '../mutate/mutation-render.js';
import { trialsForBound } from '../stats/failure-bound.js';
import type { VerifyReport, VerifySide } from '../verify.js';
import { mdCell, witnessesMarkdown } from './markdown.js';
import type { RunReport } from './types.js';

/**
 * `verify.md`: the verdict of `whatbreaks verify` for a pull request's summary: one line of verdict,
 * both sides' rates with 95 % Wilson intervals, the candidate's failure-rate bound, the alternation,
 * the candidate's first witnesses when it still fails, and with `--mutants` the candidate's mutants
 * (score line, per-mutant table, what a survivor means, each kill's witnesses, the gate).
 */
const ICON: Record<VerifyReport['verdict'], string> = {
  'fix validated': '✅',
  'fix not validated': '❌',
  'not reproduced': '⚠️',
  inconclusive: '⚠️',
  error: '💥',
};

function pct(x: number): string {
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)} %`;
}

function sideRow(s: VerifySide): string {
  const violated = Object.entries(s.violated)
    .map(([n, k]) => `\`${mdCell(n)}\` ×${k}`)
    .join(', ');
  return `| ${s.role} | \`${mdCell(s.spec)}\`${s.kind === 'path' ? ` (folder, variant ${mdCell(s.variant)})` : ''} | ${s.trials} | ${s.failed} | ${s.unknown}${s.abortedTrials ? ` (+${s.abortedTrials} aborted)` : ''} | ${pct(s.failureRate.rate)} | ${pct(s.failureRate.low)}–${pct(s.failureRate.high)} | ${violated || '–'} |`;
}

export function renderVerifyMarkdown(v: VerifyReport, reports?: readonly [RunReport, RunReport]): string {
  const c = v.candidate;
  const out = [
    `## ${ICON[v.verdict]} ${mdCell(v.scenario.name)}: ${v.verdict}`,
    '',
    mdCell(v.explanation, 2000),
    '',
    '| side | code | trials | violated | unknown | failure rate | 95 % Wilson interval | invariants violated |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    sideRow(v.baseline),
    sideRow(c),
    '',
  ];
  if (c.failed === 0 && c.passed > 0) {
    out.push(
      `Candidate failure rate, upper 95 % bound after ${c.failureBound.trials} clean trials: **${pct(c.failureBound.exact95)}** (exact, 1 − 0.05^(1/n)); rule of three ${pct(c.failureBound.ruleOfThree)}.` +
        (v.verdict === 'fix validated' && c.failureBound.exact95 >= 0.05
          ? ` A bound below 5 % needs ${trialsForBound(0.05)} clean trials (\`--trials ${trialsForBound(0.05)}\`).`
          : ''),
      '',
    );
  }
  for (const s of [v.baseline, c]) {
    if (s.error)
      out.push(`> **${s.role} error \`${mdCell(s.error.code)}\`**: ${mdCell(s.error.message, 1000)}`, '');
  }
  if (v.aborted) out.push('> **Interrupted**: the verdict covers the trials that finished.', '');
  const cand = reports?.[1];
  const firstViolations = (cand?.trials ?? [])
    .flatMap((t) => t.invariants.filter((i) => i.holds === false).map((i) => ({ t, i })))
    .slice(0, 3);
  if (firstViolations.length > 0) {
    out.push('### Candidate witnesses', '');
    for (const { t, i } of firstViolations) {
      out.push(
        `**Trial ${t.trial} · \`${mdCell(i.name)}\`**: ${mdCell(i.summary, 500)}`,
        '',
        witnessesMarkdown(i),
        '',
      );
    }
  }
  if (v.mutants) out.push(...mutantsSection(v.mutants));
  out.push(
    `Trial order: ${v.order.map((o) => `${o.side[0]}${o.trial}`).join(' ')} (b = baseline, c = candidate).`,
    '',
    `<sub>whatbreaks ${mdCell(v.tool.version)} · ${(v.durationMs / 1000).toFixed(1)} s · reports: \`${mdCell(v.baseline.runDir)}\`, \`${mdCell(c.runDir)}\`</sub>`,
    '',
  );
  return out.join('\n');
}

function mutantsSection(m: NonNullable<VerifyReport['mutants']>): string[] {
  const out = ['### Mutants of the candidate', ''];
  if (m.report) out.push(renderMutationMarkdownBody(m.report, 4));
  if (!m.report || m.gate || m.report.discovery.problem) {
    const icon = m.outcome === 'pass' ? '✅' : m.outcome === 'fail' ? '❌' : '⚠️';
    out.push(
      `${icon} ${m.message
        .split('\n')
        .map((l) => mdCell(l, 1000))
        .join('<br>')}`,
      '',
    );
  }
  if (m.report)
    out.push(
      `Mutation report: \`${mdCell(m.outDir)}/mutation.md\` (also \`mutation.json\`, \`mutation.html\`).`,
      '',
    );
  return out;
}
