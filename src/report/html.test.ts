import { describe, expect, it } from 'vitest';
import { emptyTrialReport, fixtureReport } from './formats-fixture.js';
import { renderHtml } from './html.js';
import { axisFormat, niceTicks } from './html-charts.js';

/** The SVG of the chart whose `<title>` starts with `title`, in trial section `trial`. */
function chart(html: string, trial: number, title: string): string {
  const section = html.split(`<section id="trial-${trial}">`)[1]?.split('</section>')[0] ?? '';
  const svg = section.split('<svg ').find((s) => s.includes(`<title>${title}`));
  return svg ? svg.split('</svg>')[0]! : '';
}

describe('report.html', () => {
  const html = renderHtml(fixtureReport());

  it('keeps the verdict badges legible: no rule for a bare verdict class recolours their text', () => {
    // A swimlane rule `.fail{color:#c92a2a}` once came after `.badge{color:#fff}` and won: red on red.
    const css = html.match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? '';
    const bare = [...css.matchAll(/(?:^|[}\s,])(\.(?:pass|fail|unknown|aborted))\s*[{,]/g)].map((m) => m[1]);
    expect(bare).toEqual([]);
    expect(html).toMatch(/<span class="badge (pass|fail|unknown)">(PASS|FAIL|UNKNOWN)<\/span>/);
  });

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

  /** The x tick labels of a chart (texts 16 px below its x axis). */
  const xTicks = (svg: string) =>
    [...svg.matchAll(/<text x="[\d.]+" y="(\d+)" text-anchor="middle">([^<]*)<\/text>/g)]
      .filter((m) => Number(m[1]) === Number(/height="(\d+)"/.exec(svg)?.[1]) - 44 + 16)
      .map((m) => m[2]);

  it("puts a trial's time charts on one x axis, so fault bands line up", () => {
    const timelineTicks = xTicks(chart(html, 2, 'Requests: latency by send time'));
    expect(timelineTicks.length).toBeGreaterThan(3);
    expect(xTicks(chart(html, 2, 'Upstream arrivals'))).toEqual(timelineTicks);
    expect(xTicks(chart(html, 2, 'Target resident memory'))).toEqual(timelineTicks);
    const band = (svg: string) => /<rect class="band" x="([\d.]+)"[^>]*width="([\d.]+)"/.exec(svg)?.slice(1);
    const b = band(chart(html, 2, 'Requests: latency by send time'));
    expect(b).toBeDefined();
    expect(band(chart(html, 2, 'Upstream arrivals'))).toEqual(b);
    expect(band(chart(html, 2, 'Target resident memory'))).toEqual(b);
  });

  it('outlines the detected retry waves on the arrivals chart', () => {
    const arrivals = chart(html, 2, 'Upstream arrivals');
    expect(arrivals).toContain('2 retry waves detected');
    expect(arrivals.match(/<rect class="mark-range"/g)).toHaveLength(2);
    expect(arrivals).toContain('wave 2: +0.3 s after the outage start, 12 arrivals');
  });

  it('formats all ticks of an axis alike: 8k beside 10k, never 8000 beside 10.0k', () => {
    const f = axisFormat([0, 2000, 4000, 6000, 8000, 10000, 12000]);
    expect([8000, 10000, 12000].map(f)).toEqual(['8k', '10k', '12k']);
    expect([0, 0.5, 1, 1.5].map(axisFormat([0, 0.5, 1, 1.5]))).toEqual(['0', '0.5', '1.0', '1.5']);
    expect(axisFormat([0, 200, 400])(400)).toBe('400');
    const ticks = [...html.matchAll(/dominant-baseline="middle">([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(ticks.some((t) => /\d{5,}/.test(t))).toBe(false);
  });

  it('keeps every label inside its chart: nothing cut off at the right', () => {
    // 2,000 responses: the percentile axis runs to 99.9 %, its last label at the right edge.
    const big = fixtureReport();
    big.trials[1]!.load.records = Array.from({ length: 2000 }, (_, i) => ({
      index: i,
      connection: i,
      sentAtMs: 100 + i,
      status: 200,
      latencyMs: 1 + (i % 97),
    }));
    const page = renderHtml(big);
    expect(page).toContain('99.9 %');
    for (const svg of page.split('<svg ').slice(1)) {
      const w = Number(/viewBox="0 0 (\d+)/.exec(svg)?.[1]);
      for (const m of svg.matchAll(/<text x="([\d.]+)"([^>]*)>([^<]*)/g)) {
        const x = Number(m[1]);
        const half = m[2]!.includes('text-anchor="middle"');
        const right = half
          ? x + m[3]!.length * 3.3
          : m[2]!.includes('text-anchor="end"')
            ? x
            : x + m[3]!.length * 6.2;
        expect(right, `"${m[3]}" at x=${x} in a ${w} px chart`).toBeLessThanOrEqual(w);
      }
    }
  });

  it('draws no empty chart for a trial without requests, and says "no requests"', () => {
    const empty = renderHtml(emptyTrialReport());
    expect(empty).not.toContain('<svg');
    expect(empty).toContain('no requests (burst)');
    expect(empty).not.toMatch(/p50 0\.0 ms/);
  });

  it('shows the client ticks a population skipped', () => {
    const r = fixtureReport();
    r.trials[0]!.load.skippedTicks = 37;
    expect(renderHtml(r)).toContain('37 client ticks skipped (a request still in flight)');
  });

  it('charts take the full width of the page', () => {
    expect(html).toMatch(/\.charts svg\{[^}]*width:100%/);
    expect(chart(html, 2, 'Requests: latency by send time')).toMatch(/viewBox="0 0 1200 /);
  });
});
