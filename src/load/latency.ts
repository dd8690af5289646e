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

export function summarizeHistogram(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
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
