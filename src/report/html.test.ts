import { describe, expect, it } from 'vitest';
import { fixtureReport } from './formats-fixture.js';
import { renderHtml } from './html.js';
import { niceTicks } from './html-charts.js';

/** The SVG of the chart whose `<title>` starts with `title`, in trial section `trial`. */
function chart(html: string, trial: number, title: string): string {
  const section = html.split(`<section id="trial-${trial}">`)[1]?.split('</section>')[0] ?? '';
  const svg = section.split('<svg ').find((s) => s.includes(`<title>${title}`));
  return svg ? svg.split('</svg>')[0]! : '';
}

describe('report.html', () => {
  const html = renderHtml(fixtureReport());

  it('is self-contained: no script, no external resource', () => {
    expect(html).not.toMatch(/<script|<link|@import|src=|url\(/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('plots one mark per request that got an answer or an error, coloured by status', () => {
    const t = chart(html, 2, 'Requests: latency by send time');
    expect(t.match(/<circle class="mark"/g)).toHaveLength(7);
    expect(t.match(/fill="#d62728" fill-opacity/g)).toHaveLength(1); // the 500
    expect(t.match(/fill="#7b2cbf" fill-opacity/g)).toHaveLength(1); // ECONNRESET
  });

  it('shades the fault window on the timeline and names it', () => {
    const t = chart(html, 2, 'Requests: latency by send time');
    expect(t.match(/<rect class="band"/g)).toHaveLength(1);
    expect(t).toContain('kill-replica');
    expect(chart(html, 1, 'Requests: latency by send time')).not.toContain('class="band"');
  });

  it('draws the HDR percentile curve, status bars, herd buckets and the RSS line', () => {
    expect(chart(html, 2, 'Latency by percentile')).toMatch(
      /<path class="series" d="M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){5,}"/,
    );
    expect(chart(html, 2, 'Responses by status').match(/<rect class="bar"/g)).toHaveLength(4);
    expect(chart(html, 2, 'Upstream arrivals').match(/<rect class="bar"/g)).toHaveLength(5);
    expect(chart(html, 2, 'Target resident memory')).toMatch(
      /<path class="series" d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+L/,
    );
    expect(chart(html, 1, 'Upstream arrivals')).toBe('');
  });

  it('shows witnesses as escaped tables; failed trials open, passed folded', () => {
    expect(html).toContain('<th>truck</th><th>note</th>');
    expect(html).toContain('a|b &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toMatch(/<section id="trial-1"><details>/);
    expect(html).toMatch(/<section id="trial-2"><details open>/);
  });

  it('picks 1-2-5 ticks', () => {
    expect(niceTicks(0, 97)).toEqual({ min: 0, max: 100, ticks: [0, 20, 40, 60, 80, 100] });
    expect(niceTicks(335.2, 358.6).ticks).toEqual([335, 340, 345, 350, 355, 360]);
  });
});
