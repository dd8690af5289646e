import { describe, expect, it } from 'vitest';
import { brokenOffReport, emptyTrialReport, fixtureReport } from './formats-fixture.js';
import { mdCell, renderMarkdown } from './markdown.js';

describe('report.md', () => {
  const md = renderMarkdown(fixtureReport());

  it('opens with the verdict and the reproduction rate with its Wilson interval', () => {
    expect(md.split('\n')[0]).toBe('## ❌ fixture [buggy]: FAIL');
    // 1 of 2: Wilson 95 % [0.0945, 0.9055]
    expect(md).toContain('reproduction rate **50 %** (95 % Wilson interval 9.5 %–91 %)');
  });

  it('has an invariant table, a trial table and the witnesses as a table', () => {
    expect(md).toMatch(
      /\| `no-overbooking` \| sql \| 1 \| 1 \| 0 \| trial 2: truck 1 holds 3 bookings, 30 kg of 20 kg \|/,
    );
    expect(md).toMatch(/\| `answers` \| responses \| 1 \| 0 \| 1 \| {2}\|/);
    expect(md).toMatch(
      /\| 2 \| ❌ fail \| 7 \(barrier\) \| 201×1 409×4 500×1 error:ECONNRESET×1 \| 20 ms \| 35 ms \| 35 ms \| 10 ms \| – \| {2}\|/,
    );
    expect(md).toContain('| truck | note |');
    expect(md).toContain('_3 more witnesses in report.json._');
  });

  it('keeps table cells in one cell: pipes, newlines and markup are escaped', () => {
    expect(md).toContain('| 1 | a\\|b &lt;script&gt;alert("x")&lt;/script&gt; & \'q\' \u0001 end |');
    expect(md).toContain('| 2 | multi line |');
    expect(mdCell('a`b`|c\\')).toBe('a\\`b\\`\\|c\\\\');
    for (const line of md
      .split('\n')
      .filter((l) => l.startsWith('| truck') || l.startsWith('| 1 | a') || l.startsWith('| 2 | multi'))) {
      expect(line.replace(/\\\|/g, '').split('|')).toHaveLength(4);
    }
  });

  it('prints no rate and no Wilson interval for a run that broke off before any trial', () => {
    const broken = renderMarkdown(brokenOffReport());
    expect(broken).toContain('**0 trials**: 0 passed, 0 failed, 0 unknown · local environment');
    expect(broken).not.toMatch(/reproduction rate|Wilson/);
  });

  it("puts the target's log lines in a code block, one line each, fenced past any backticks", () => {
    const broken = renderMarkdown(brokenOffReport());
    expect(broken).toContain(
      '> **Error `TARGET_FAILED`**: target exited before it became healthy (exit code 1)',
    );
    expect(broken).toContain(
      '````text\nlast lines of /r/logs/target-1.log:\n  | Error: listen EADDRINUSE\n  |     at Server.listen (node:net:1)\n  | ```fence``` <b>\n````',
    );
  });

  it('says "no requests" for a trial that sent none, not 0.00 ms', () => {
    const empty = renderMarkdown(emptyTrialReport());
    expect(empty).toMatch(/\| 1 \| ⚠️ unknown \| 0 \(barrier\) \| {2}\| no requests \| – \| – \|/);
    expect(empty).not.toContain('0.00 ms');
  });
});
