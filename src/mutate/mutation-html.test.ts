import { describe, expect, it } from 'vitest';
import { fixtureMutationFile, fixtureMutationReport } from './mutation-fixture.js';
import { renderMutationHtml } from './mutation-html.js';

/** The `<tr>` of the mutant table whose id is `id`. */
function row(html: string, id: string): string {
  return html.split('<tr>').find((r) => r.includes(`<code>${id}</code>`)) ?? '';
}

describe('mutation.html', () => {
  const html = renderMutationHtml(fixtureMutationFile());

  it('is self-contained: no script, no external resource, and escapes what it shows', () => {
    expect(html).not.toMatch(/<script|<link|@import|src=|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('shows the score line and one row per mutant: outcome, clause removed, statement, trials, why', () => {
    expect(html).toContain('<b>mutation score 1/2 (50%): 1 killed, 1 survived, 1 unknown (not counted)</b>');
    const killed = row(html, 'drop-row-lock@c00d0671ab775e1f');
    expect(killed).toContain('<span class="badge killed">KILLED</span>');
    expect(killed).toContain('<a href="#mutant-1">');
    expect(killed).toContain('(statement)');
    expect(killed).toContain('<td><code>FOR UPDATE</code></td>');
    expect(killed).toContain('<td><code>SELECT status FROM jobs WHERE id = $1 FOR UPDATE</code></td>');
    expect(killed).toContain('<td>0/2/0 of 2</td>');
    expect(row(html, 'drop-update-predicate@9a1b')).toContain('<span class="badge survived">SURVIVED</span>');
    expect(row(html, 'no-advisory-lock@77aa')).toMatch(
      /badge unknown">UNKNOWN<\/span>.*the mutant was not exercised/,
    );
  });

  it('says what a survivor means, and only when a mutant survived', () => {
    expect(html).toContain('A survivor means the scenario cannot tell this protection matters');
    const none = fixtureMutationReport();
    none.mutants.splice(1, 1);
    expect(renderMutationHtml({ ...none, survived: 0, score: 1 })).not.toContain('A survivor means');
  });

  it("gives each kill its trial, schedule, run folder and the witnesses' table", () => {
    const kill = html.split('<section id="mutant-1">')[1]?.split('</section>')[0] ?? '';
    expect(kill).toContain('killed in trial 1, schedule <code>0.1.1.1.1.0.0.0</code>');
    expect(kill).toContain('run folder <code>/r/mutants/drop-row-lock@c00d0671ab775e1f</code>');
    expect(kill).toContain(
      'replay it: <code>whatbreaks replay /r/mutants/drop-row-lock@c00d0671ab775e1f --schedule 0.1.1.1.1.0.0.0</code>',
    );
    expect(kill).toContain('<th>request</th><th>status</th><th>body</th>');
    expect(html.match(/<section id="mutant-/g)).toHaveLength(1);
  });

  it('lists refused points and statements passed through unparsed; a discovery problem says no mutant ran', () => {
    expect(html).toContain('the mutant would lose parameter $2');
    expect(html).toContain('<code>SELEC 1</code> (1×): syntax error at or near &quot;SELEC&quot;');
    const r = fixtureMutationReport();
    const failed = renderMutationHtml({
      ...r,
      mutants: [],
      killed: 0,
      survived: 0,
      unknown: 0,
      score: null,
      discovery: { ...r.discovery, verdict: 'fail', problem: 'the candidate (fixed) did not pass' },
    });
    expect(failed).toContain('<b>No mutant was run:</b> the candidate (fixed) did not pass');
    expect(failed).toContain('mutation score n/a');
    expect(failed).not.toContain('<table class="mutants">');
  });

  it('keeps the outcome badges legible: no rule for a bare outcome class', () => {
    const css = html.match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? '';
    const bare = [...css.matchAll(/(?:^|[}\s,])(\.(?:killed|survived|unknown))\s*[{,]/g)].map((m) => m[1]);
    expect(bare).toEqual([]);
  });
});
