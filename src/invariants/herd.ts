import { z } from 'zod';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import { analyzeHerd, type HerdReport } from './herd-analysis.js';
import type { Invariant, InvariantResult } from './types.js';

/**
 * `herd`: after an outage of a dependency, the calls the target makes to it must not come in
 * synchronized waves, and its steady rate must come back soon (the thundering herd, GUIDE §1).
 *
 * ```yaml
 * - type: herd
 *   name: no-retry-waves
 *   dependency: upstream     # behind an HTTP fault proxy; the outage is its upstream-down/http-fault
 *   bucketMs: 50
 *   maxPeakToMean: 4         # fullest bucket / mean bucket, from the outage start to the end
 *   maxRecoveryMs: 2000      # outage end → steady rate again
 * ```
 *
 * Arrivals are the dependency's HTTP fault proxy records (`src/observe/upstream-arrivals.ts`): every
 * call the target made, also those the outage answered. The outage window is the first applied
 * `upstream-down` or `http-fault` on that dependency in the trial's fault timeline. Buckets run from the
 * load start to the last request the clients started (the drain after it is not steady state).
 * `herd-analysis.ts` defines peak/mean, waves (runs of buckets over `waveFactor` × the steady count
 * per bucket, with their gaps and whether the gaps double) and recovery.
 *
 * Holds when peak/mean ≤ `maxPeakToMean`, and (if given) recovery ≤ `maxRecoveryMs` and waves ≤
 * `maxWaves`. `unknown` without an applied outage, or without calls before it (no steady state to
 * compare with). Witnesses: the waves (start, time since the outage, gap, size, retries in it).
 * The buckets go to `report.json` as `trials[].herd` for the HTML chart.
 */
export const config = z
  .strictObject({
    type: z.literal('herd'),
    name: z.string().min(1),
    description: z.string().optional(),
    dependency: z
      .string()
      .min(1)
      .default('upstream')
      .meta({ description: 'The dependency whose arrivals are judged (declared with `proxy: http`).' }),
    bucketMs: positiveDurationMs.default(50).meta({ description: 'Bucket width, ms.' }),
    maxPeakToMean: z.number().positive().optional().meta({
      description:
        'Bound on (fullest bucket) / (mean bucket) from the outage start to the end; unset: reported only.',
    }),
    maxRecoveryMs: durationMs.optional().meta({
      description:
        'Bound on the time from the outage end until the steady rate is back, ms; unset: reported only.',
    }),
    maxWaves: z
      .int()
      .nonnegative()
      .optional()
      .meta({ description: 'Bound on the number of waves; unset: reported only.' }),
    baselineMs: positiveDurationMs
      .default(1000)
      .meta({ description: 'The steady rate is measured over this long before the outage, ms.' }),
    waveFactor: z.number().gt(1).default(3).meta({
      description:
        'A bucket over this many times its level (steady, or the local median if higher) is part of a wave.',
    }),
    localMs: positiveDurationMs
      .default(1000)
      .meta({ description: 'Half-width of the local median window, ms.' }),
    mergeMs: durationMs.default(300).meta({ description: 'Bursts closer than this are one wave, ms.' }),
    minWaveSize: z.int().positive().optional().meta({
      description: 'Fewest arrivals in a wave; default half a second of steady traffic (at least 10).',
    }),
    maxGeneratorLagMs: positiveDurationMs.default(250).meta({
      description:
        "Judge only when the load generator kept its schedule: p99 of (send − intended send) at most this, ms. A starved generator (a loaded machine) bunches requests and starves the proxy's clock too; such a trial is `unknown`, in both directions.",
    }),
    settleMs: positiveDurationMs.default(1000).meta({
      description:
        'Recovered once the rate stays within ±`tolerance` of steady (per `smoothMs` chunk) for `settleMs`.',
    }),
    smoothMs: positiveDurationMs.default(500),
    tolerance: z.number().positive().max(1).default(0.35),
  })
  .refine((c) => c.maxPeakToMean !== undefined || c.maxRecoveryMs !== undefined || c.maxWaves !== undefined, {
    message: 'give maxPeakToMean, maxRecoveryMs or maxWaves (or several)',
  })
  .meta({
    jsonSchema: {
      anyOf: [{ required: ['maxPeakToMean'] }, { required: ['maxRecoveryMs'] }, { required: ['maxWaves'] }],
    },
    description:
      '`herd`: after an outage of a dependency, the calls the target makes to it must not come in synchronized waves, and its steady rate must come back soon (the thundering herd).',
    yaml: '- type: herd\n  name: no-retry-waves\n  dependency: upstream     # behind an HTTP fault proxy; the outage is its upstream-down/http-fault\n  bucketMs: 50\n  maxPeakToMean: 4         # fullest bucket / mean bucket, from the outage start to the end\n  maxRecoveryMs: 2000      # outage end → steady rate again',
  });
export type HerdInvariantConfig = z.output<typeof config>;

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describe(h: HerdReport): string {
  if (h.waves.length === 0) return 'no waves';
  const at = h.waves.map((w) => `+${s(w.sinceOutageMs)}`).join(', ');
  const gaps = h.waves.flatMap((w) => (w.gapMs !== undefined ? [s(w.gapMs)] : []));
  return `${h.waves.length} wave${h.waves.length === 1 ? '' : 's'} at ${at} after the outage start${gaps.length ? ` (gaps ${gaps.join(', ')}: ${h.pattern})` : ''}`;
}

export function create(cfg: HerdInvariantConfig): Invariant {
  return {
    name: cfg.name,
    type: 'herd',
    async check({ load, faults, window, upstreams }): Promise<InvariantResult> {
      const base = { name: cfg.name, type: 'herd', witnesses: [], witnessCount: 0 };
      const outage = faults?.find(
        (f) =>
          (f.type === 'upstream-down' || f.type === 'http-fault') &&
          f.target === cfg.dependency &&
          f.outcome === 'applied',
      );
      if (!outage) {
        return {
          ...base,
          holds: 'unknown',
          summary: `no outage of '${cfg.dependency}' was applied in this trial (add an upstream-down fault)`,
        };
      }
      const arrivals = upstreams?.[cfg.dependency];
      if (!arrivals) {
        return {
          ...base,
          holds: 'unknown',
          summary: `no arrivals recorded for '${cfg.dependency}' (is it a dependency with proxy: http?)`,
        };
      }
      const lags = load.records
        .filter((r) => r.intendedAtMs !== undefined)
        .map((r) => r.sentAtMs - r.intendedAtMs!)
        .sort((a, b) => a - b);
      const lagP99 = lags.length ? lags[Math.ceil(0.99 * lags.length) - 1]! : 0;
      const sends = load.records.map((r) => r.sentAtMs);
      const toMs = sends.length ? Math.max(...sends) : (window?.endMs ?? outage.startMs);
      const h = analyzeHerd(cfg.dependency, arrivals, {
        bucketMs: cfg.bucketMs,
        outage: { startMs: outage.startMs, endMs: outage.endMs ?? toMs },
        fromMs: load.startedAtMs,
        toMs,
        baselineMs: cfg.baselineMs,
        waveFactor: cfg.waveFactor,
        localMs: cfg.localMs,
        mergeMs: cfg.mergeMs,
        minWaveSize: cfg.minWaveSize,
        settleMs: cfg.settleMs,
        smoothMs: cfg.smoothMs,
        tolerance: cfg.tolerance,
      });
      if (lagP99 > cfg.maxGeneratorLagMs) {
        return {
          ...base,
          holds: 'unknown',
          summary: `the load generator sent up to ${lagP99.toFixed(0)} ms late (p99; max ${cfg.maxGeneratorLagMs} ms): the machine was too busy for arrival times to mean anything (${describe(h)}, peak/mean ${h.peakToMean.toFixed(2)})`,
          measurements: { herd: h },
        };
      }
      if (h.steadyPerBucket === 0) {
        return {
          ...base,
          holds: 'unknown',
          summary: `no calls to '${cfg.dependency}' in the ${cfg.baselineMs} ms before the outage: no steady state to compare with`,
          measurements: { herd: h },
        };
      }
      const problems: string[] = [];
      if (cfg.maxPeakToMean !== undefined && h.peakToMean > cfg.maxPeakToMean) problems.push('peak/mean');
      if (cfg.maxRecoveryMs !== undefined && (h.recoveryMs === null || h.recoveryMs > cfg.maxRecoveryMs))
        problems.push('recovery');
      if (cfg.maxWaves !== undefined && h.waves.length > cfg.maxWaves) problems.push('waves');
      const recovery =
        h.recoveryMs === null ? 'did not recover before the end' : `recovery ${s(h.recoveryMs)}`;
      const summary =
        `peak/mean ${h.peakToMean.toFixed(2)} (${cfg.maxPeakToMean !== undefined ? `max ${cfg.maxPeakToMean}; ` : ''}peak ${h.peak.count} in ${cfg.bucketMs} ms at ${s(h.peak.tMs)}, steady ${h.steadyPerBucket.toFixed(1)})` +
        `; ${describe(h)}${cfg.maxWaves !== undefined ? ` (max ${cfg.maxWaves})` : ''}` +
        `; ${recovery}${cfg.maxRecoveryMs !== undefined ? ` (max ${s(cfg.maxRecoveryMs)})` : ''}`;
      const holds = problems.length === 0;
      const witnesses = holds
        ? []
        : h.waves.map((w, i) => ({
            wave: i + 1,
            atMs: w.startMs,
            sinceOutageMs: w.sinceOutageMs,
            ...(w.gapMs !== undefined ? { gapMs: w.gapMs } : {}),
            size: w.size,
            retries: w.retries,
            peak: w.peak,
            buckets: w.buckets,
          }));
      return {
        ...base,
        holds,
        summary,
        witnesses,
        witnessCount: witnesses.length,
        measurements: { herd: h },
      };
    },
  };
}
