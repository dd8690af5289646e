import * as hdr from 'hdr-histogram-js';
import type { RequestRecord } from './types.js';

/** Latency percentiles of one set of requests, ms (HDR histogram, 3 significant digits, µs resolution). */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** An HDR histogram of latencies in microseconds, up to one hour. */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/**
 * Percentiles, max and mean of `h`, ms. A percentile is the highest value of its HDR bucket, which can lie
 * above the largest value recorded (p99 8577 ms beside max 8573 ms: at 8.5 s a bucket is 4.1 ms wide), so
 * every percentile is capped at the recorded max (`percentileUs`): no percentile is ever printed above max.
 */
export function summarizeHistogram(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(percentileUs(h, 50)),
    p90: ms(percentileUs(h, 90)),
    p99: ms(percentileUs(h, 99)),
    p999: ms(percentileUs(h, 99.9)),
    max: ms(h.maxValue),
    mean: ms(Math.min(h.mean, h.maxValue)),
  };
}

/** The value at `percentile` (0–100) of `h`, in its unit, never above the largest value recorded. */
export function percentileUs(h: hdr.Histogram, percentile: number): number {
  return Math.min(h.getValueAtPercentile(percentile), h.maxValue);
}

/** Percentiles of the requests that got a response. */
export function summarizeLatency(records: readonly RequestRecord[]): LatencySummary {
  const h = latencyHistogram();
  for (const r of records) {
    if (r.latencyMs !== undefined) h.recordValue(Math.max(1, Math.round(r.latencyMs * 1000)));
  }
  const s = summarizeHistogram(h);
  h.destroy();
  return s;
}

/** Counts per status code, with `error` for requests that got no response. */
export function statusCounts(records: readonly RequestRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) {
    const key = r.status !== undefined ? String(r.status) : `error:${r.error ?? 'unknown'}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
