import { describe, expect, it } from 'vitest';
import { latencyHistogram, summarizeHistogram, summarizeLatency } from './latency.js';
import type { RequestRecord } from './types.js';

const rec = (latencyMs: number, index = 0): RequestRecord => ({
  index,
  connection: 0,
  sentAtMs: 0,
  latencyMs,
});

describe('latency summary', () => {
  it('never puts a percentile above the max (an HDR bucket at 8.5 s is 4.1 ms wide)', () => {
    // 8573 ms lands in a bucket whose highest equivalent value is 8577 ms.
    const s = summarizeLatency([rec(8573), rec(10, 1), rec(20, 2)]);
    expect(s.max).toBe(8573);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(s.p999).toBeLessThanOrEqual(s.max);
    expect(s.p99).toBe(8573);
  });

  it('holds for any set of latencies', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let k = 0; k < 50; k++) {
      const h = latencyHistogram();
      const n = 1 + Math.floor(rnd() * 300);
      for (let i = 0; i < n; i++) h.recordValue(1 + Math.floor(rnd() ** 3 * 20_000_000));
      const s = summarizeHistogram(h);
      h.destroy();
      for (const p of [s.p50, s.p90, s.p99, s.p999, s.mean]) expect(p).toBeLessThanOrEqual(s.max);
      expect(s.p50).toBeLessThanOrEqual(s.p99);
    }
  });

  it('has count 0 for no requests (renderers print "no requests", not 0.00 ms)', () => {
    expect(summarizeLatency([]).count).toBe(0);
  });
});
