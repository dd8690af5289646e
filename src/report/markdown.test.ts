import { describe, expect, it } from 'vitest';
import { fixtureReport } from './formats-fixture.js';
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
});
