import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../src/report/html.js';
import type { RunReport } from '../src/report/types.js';
import { cli } from './helpers.js';

/**
 * report.html as a person sees it: a real run's report, opened in headless Chromium from a file:// URL
 * with every host name unresolvable (so any network fetch would fail and be logged), screenshotted;
 * the screenshot is decoded here and must show the plots' colours, and the DOM Chromium built must
 * hold the charts with their marks. Needs `apt-get install chromium` (skips with a message without).
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!CHROMIUM) console.warn('report-html.test.ts: chromium missing (apt-get install chromium): skipped');
process.env.WHATBREAKS_ENV = 'local';

function chromium(
  url: string,
  profile: string,
  extra: string[],
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(
    CHROMIUM!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      '--enable-logging=stderr',
      '--v=0',
      `--user-data-dir=${profile}`,
      '--window-size=1400,3000',
      ...extra,
      url,
    ],
    { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) into RGBA rows. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8); // bit depth
      expect(data[12]).toBe(0); // not interlaced
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      expect(channels).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const pred =
        filter === 1
          ? a
          : filter === 2
            ? b
            : filter === 3
              ? (a + b) >> 1
              : filter === 4
                ? pa <= pb && pa <= pc
                  ? a
                  : pb <= pc
                    ? b
                    : c
                : 0;
      line[i] = (line[i]! + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = line[x * channels + k]!;
      out[(y * width + x) * 4 + 3] = channels === 4 ? line[x * channels + 3]! : 255;
    }
    prev = line;
  }
  return { width, height, rgba: out };
}

/** Pixels within ±12 per channel of `hex`. */
function countColour(img: ReturnType<typeof decodePng>, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (
      Math.abs(img.rgba[i]! - r) <= 12 &&
      Math.abs(img.rgba[i + 1]! - g) <= 12 &&
      Math.abs(img.rgba[i + 2]! - b) <= 12
    )
      n++;
  }
  return n;
}

/**
 * The longest horizontal run of grey pixels at least as dark as #d0d0d0, px: an axis line (#888, 1 px,
 * anti-aliased when the page scales the chart) and nothing else on the page is that long and that grey.
 */
function longestGreyRun(img: ReturnType<typeof decodePng>): number {
  let best = 0;
  for (let y = 0; y < img.height; y++) {
    let run = 0;
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      const [r, g, b] = [img.rgba[i]!, img.rgba[i + 1]!, img.rgba[i + 2]!];
      const hit = Math.max(r, g, b) - Math.min(r, g, b) <= 10 && r <= 0xd0;
      run = hit ? run + 1 : 0;
      if (run > best) best = run;
    }
  }
  return best;
}

describe.skipIf(!CHROMIUM)('report.html in headless Chromium', () => {
  let dir: string;
  let profile: string;
  let report: RunReport;
  let html: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'whatbreaks-test-html-'));
    profile = mkdtempSync(join(tmpdir(), 'whatbreaks-test-chromium-'));
    const r = cli([
      'run',
      'scenarios/double-booking.yaml',
      '--variant',
      'buggy',
      '--trials',
      '1',
      '--out',
      dir,
      '-q',
    ]);
    expect(r.code).toBe(1);
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    // The optional sections other parts of a run add: a fault window, herd buckets, RSS samples.
    const t = report.trials[0] as RunReport['trials'][number] & Record<string, unknown>;
    const sent = t.load.records.map((x) => x.sentAtMs);
    const t0 = Math.min(...sent);
    t.faults = [
      { type: 'latency', atMs: 0, startMs: t0, endMs: t0 + 40, detail: '+500 ms', outcome: 'applied' },
    ];
    t.herd = {
      bucketMs: 100,
      buckets: [2, 30, 4, 1, 25, 3],
      waves: [
        { startMs: 100, sinceOutageMs: 100, size: 30, buckets: 1 },
        { startMs: 400, sinceOutageMs: 400, gapMs: 300, size: 25, buckets: 1 },
      ],
    } as unknown as RunReport['trials'][number]['herd'];
    t.rss = [
      {
        replica: 1,
        pid: 1,
        peakMiB: 90,
        peakAtMs: 300,
        timeline: [
          [0, 60],
          [150, 75],
          [300, 90],
          [450, 70],
        ],
        oomKilled: false,
      },
    ];
    html = renderHtml(report);
    writeFileSync(join(dir, 'full.html'), html);
  });
  afterAll(() => {
    rmSync(profile, { recursive: true, force: true });
  });

  it('the run wrote report.html, and Chromium loads it with no error and no network request', () => {
    const r = chromium(`file://${join(dir, 'report.html')}`, profile, ['--dump-dom']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('<svg class="chart scatter"');
    expect(r.stderr).not.toMatch(/CONSOLE|Failed to load resource|net::ERR_|Uncaught/);
  });

  it('the DOM Chromium built holds every chart with its marks', () => {
    const r = chromium(`file://${join(dir, 'full.html')}`, profile, ['--dump-dom']);
    expect(r.code).toBe(0);
    const dom = r.stdout;
    const answered = report.trials[0]!.load.records.filter(
      (x) => x.latencyMs !== undefined || x.error,
    ).length;
    expect(dom.match(/<circle class="mark"/g)).toHaveLength(answered);
    expect(dom.match(/<rect class="band"/g)?.length).toBeGreaterThanOrEqual(3); // timeline, herd, rss
    expect(dom).toMatch(
      /<svg class="chart line"[^>]*><title>Latency by percentile[\s\S]*?<path class="series" d="M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){10,}/,
    );
    expect(dom).toMatch(/<title>Upstream arrivals per 100 ms bucket — 2 retry waves detected<\/title>/);
    expect(dom.match(/<rect class="mark-range"/g)).toHaveLength(2);
    expect(dom).toMatch(/<title>Target resident memory \(RSS\)<\/title>/);
    expect(dom).toMatch(/<table class="witnesses">/);
    expect(r.stderr).not.toMatch(/CONSOLE|Failed to load resource|net::ERR_|Uncaught/);
  });

  it('the screenshot is not blank and shows the plots in their colours', () => {
    const png = join(dir, 'report.png');
    const r = chromium(`file://${join(dir, 'full.html')}`, profile, [`--screenshot=${png}`]);
    expect(r.code).toBe(0);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1400, 3000]);
    const white = countColour(img, '#ffffff');
    expect(white / (img.width * img.height)).toBeLessThan(0.99);
    // Colours only the plots use: 5xx/overbooking red and 409 orange marks, herd bars, the RSS line.
    const statuses = Object.keys(report.trials[0]!.load.statusCounts);
    if (statuses.includes('409')) expect(countColour(img, '#ff9f1c')).toBeGreaterThan(50);
    expect(countColour(img, '#4a78c2')).toBeGreaterThan(200); // percentile line + herd bars
    expect(countColour(img, '#2ca02c')).toBeGreaterThan(20); // 2xx marks and bar
    expect(countColour(img, '#d62728')).toBeGreaterThan(20); // FAIL badge / RSS line
    // The retry waves' dashed outlines on the arrivals chart.
    expect(countColour(img, '#c92a2a')).toBeGreaterThan(100);
    // Charts take the page's width: the longest x axis (#888 line) spans over 80 % of the window
    // (it was 820 of 1400 px when charts were a fixed 900 px).
    expect(longestGreyRun(img) / img.width).toBeGreaterThan(0.8);
  });
});
