import { type LatencySummary, latencyHistogram, summarizeHistogram } from './latency.js';
import type { RequestRecord } from './types.js';

/**
 * What an open-model run measured about its own schedule and about latency with and without
 * coordinated-omission correction (Gil Tene, "How NOT to measure latency"; wrk2's README).
 *
 * - corrected latency: from the request's *intended* send time to its complete response. A request
 *   that had to wait for a connection (every connection busy behind a stalled target) is charged for
 *   the wait, as a user arriving at that moment would have been.
 * - uncorrected latency: from the *actual* send to the complete response — what a closed-loop tool
 *   reports, blind to the requests it did not send while the target stalled.
 * - send lag: actual − intended send time. `late` counts lags over `LATE_THRESHOLD_MS`. Lag of sends
 *   that found a free connection at their intended time is the generator's own lag (event loop, GC);
 *   lag of sends that waited for a connection is the target's doing.
 */
export interface OpenModelStats {
  /** Configured arrival rate, req/s. */
  targetRatePerSec: number;
  /** Sends the schedule asked for within the duration. */
  scheduled: number;
  /** Requests actually sent. */
  sent: number;
  /** (sent − 1) / (last actual send − first actual send), req/s. */
  achievedRatePerSec: number;
  /** Sends with actual − intended > `LATE_THRESHOLD_MS`. */
  late: number;
  /** Sends that waited for a free connection (all `maxConnections` busy) at their intended time. */
  waitedForConnection: number;
  /** Sends given up after waiting `maxQueueMs` for a connection (records with error `dropped`). */
  dropped: number;
  /** Connections opened (pre-allocated + grown). */
  connections: number;
  /** actual − intended send time over all sends, ms. */
  sendLagMs: LagSummary;
  /** Same, over the sends that had a free connection: the generator's own lag, ms. */
  generatorLagMs: LagSummary;
  /** From intended send to complete response, ms. */
  latencyCorrected: LatencySummary;
  /** From actual send to complete response, ms. */
  latencyUncorrected: LatencySummary;
}

export interface LagSummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** A send later than this behind its intended time is late, ms. */
export const LATE_THRESHOLD_MS = 1;

/** Error recorded for a send given up for lack of a connection. */
export const DROPPED = 'dropped';

const toUs = (ms: number) => Math.max(1, Math.round(ms * 1000));

function lagSummary(values: readonly number[]): LagSummary {
  const h = latencyHistogram();
  for (const v of values) h.recordValue(toUs(Math.max(0, v)));
  const s = summarizeHistogram(h);
  h.destroy();
  return { p50: s.p50, p99: s.p99, p999: s.p999, max: s.max };
}

/**
 * Compute the stats from the records of one open-model run. `waited` holds the indexes of sends that
 * found no free connection at their intended time.
 */
export function openModelStats(
  records: readonly RequestRecord[],
  opts: { targetRatePerSec: number; scheduled: number; connections: number; waited: ReadonlySet<number> },
): OpenModelStats {
  const sent = records.filter((r) => r.error !== DROPPED && r.intendedAtMs !== undefined);
  const lags = sent.map((r) => r.sentAtMs - r.intendedAtMs!);
  const generatorLags = sent
    .filter((r) => !opts.waited.has(r.index))
    .map((r) => r.sentAtMs - r.intendedAtMs!);
  const corrected = latencyHistogram();
  const uncorrected = latencyHistogram();
  for (const r of sent) {
    if (r.latencyMs === undefined) continue;
    uncorrected.recordValue(toUs(r.latencyMs));
    corrected.recordValue(toUs(r.sentAtMs + r.latencyMs - r.intendedAtMs!));
  }
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of sent) {
    first = Math.min(first, r.sentAtMs);
    last = Math.max(last, r.sentAtMs);
  }
  const stats: OpenModelStats = {
    targetRatePerSec: opts.targetRatePerSec,
    scheduled: opts.scheduled,
    sent: sent.length,
    achievedRatePerSec:
      sent.length > 1 && last > first ? round3(((sent.length - 1) / (last - first)) * 1000) : 0,
    late: lags.filter((l) => l > LATE_THRESHOLD_MS).length,
    waitedForConnection: opts.waited.size,
    dropped: records.filter((r) => r.error === DROPPED).length,
    connections: opts.connections,
    sendLagMs: lagSummary(lags),
    generatorLagMs: lagSummary(generatorLags),
    latencyCorrected: summarizeHistogram(corrected),
    latencyUncorrected: summarizeHistogram(uncorrected),
  };
  corrected.destroy();
  uncorrected.destroy();
  return stats;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
