import { z } from 'zod';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import { analyzeHerd, type HerdReport } from './herd-analysis.js';
import { readAttempts } from './herd-attempts.js';
import type { Invariant, InvariantCheckContext, InvariantResult } from './types.js';

/**
 * `herd`: after an outage of a dependency, the calls the target makes to it must not come in
 * synchronized waves, and its steady rate must come back soon (the thundering herd: retries with
 * exponential backoff and no jitter, after a failure that hit many calls at once, come back together at
 * +1 s, +3 s, +7 s; Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 *
 * ```yaml
 * - type: herd
 *   name: no-retry-waves
 *   dependency: upstream     # behind an HTTP fault proxy; the outage is its upstream-down/http-fault
 *   maxWaves: 1
 *   maxPeakToMean: 6         # fullest bucket / mean bucket, from the outage start to the end
 *   maxRecoveryMs: 5000      # outage end → steady rate again
 *   attemptHeader: x-retry-count   # optional: which calls were retries …
 *   firstAttempt: 0                # … counted from 0 on the first try
 * ```
 *
 * Arrivals are the dependency's HTTP fault proxy records (`src/observe/upstream-arrivals.ts`): every
 * call the target made, also those the outage answered. The outage window is the first applied
 * `upstream-down` or `http-fault` on that dependency in the trial's fault timeline. Buckets run from the
 * load start to the last request the clients started (the drain after it is not steady state).
 * `herd-analysis.ts` defines peak/mean, waves (bursts of at least `minWaveSize` calls beyond the level
 * of the traffic around them, not made up for by calls missing just before — a stall's backlog — with
 * their gaps and whether the gaps double) and recovery.
 *
 * Retries: when the target sends an attempt header (`attemptHeader`, numbered from `firstAttempt`), a
 * wave must be at least half retries — a burst of first tries is the callers' doing. Without the header
 * (or when its values do not fit `firstAttempt`: `herd-attempts.ts`), waves are found from the counts
 * alone, and a wave's `retries` is its calls beyond the level of the traffic around it (an estimate);
 * the summary says which.
 *
 * Holds when every bound given holds: peak/mean ≤ `maxPeakToMean`, waves ≤ `maxWaves`, recovery ≤
 * `maxRecoveryMs` (a rate that never came back breaks it). `unknown` — never pass — without an applied
 * outage of the dependency, without arrivals recorded for it, without calls in the `baselineMs` before
 * the outage (no steady state to compare with), or when the load generator ran more than
 * `maxGeneratorLagMs` late at p99 (arrival times on a starved machine mean nothing, in either
 * direction). Witnesses: the waves (start, time since the outage, gap, size, excess, retries, peak,
 * buckets). Throws nothing; `check` reports scenario problems (a missing or non-HTTP dependency, an
 * attempt header the proxy does not record) when the scenario is loaded.
 * The buckets and waves go to `report.json` as `trials[].herd` (the HTML report draws them).
 */
export const config = z
  .strictObject({
    type: z.literal('herd'),
    name: z.string().min(1),
    description: z.string().optional(),
    dependency: z.string().min(1).default('upstream').meta({
      description: 'The dependency whose arrivals are judged; it needs `proxy: http` (the default).',
    }),
    attemptHeader: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name')
      .optional()
      .meta({
        description:
          "Request header carrying the attempt number on each call to the dependency (any case). It must be among the dependency's `recordHeaders` when given; default `x-attempt` if recorded (it is by default). A target that sends none is judged from counts alone.",
      }),
    firstAttempt: z
      .union([z.literal(0), z.literal(1)])
      .default(1)
      .meta({
        description:
          "The attempt header's value on a first try: `1` (1-based: 1, 2, 3 …) or `0` (0-based, the number of attempts before this one: 0, 1, 2 …). Values that do not fit make the header ignored.",
      }),
    bucketMs: positiveDurationMs.default(50).meta({ description: 'Bucket width, ms.' }),
    maxPeakToMean: z.number().positive().optional().meta({
      description:
        "Bound on (fullest bucket) / (mean bucket), both counted from the outage start to the end of the clients' sending (a ratio); unset: reported only.",
    }),
    maxRecoveryMs: durationMs.optional().meta({
      description:
        'Bound on the time from the outage end until the steady rate is back and no wave follows, ms; a rate that does not come back before the end breaks it; unset: reported only.',
    }),
    maxWaves: z.int().nonnegative().optional().meta({
      description: 'Bound on the number of waves after the outage start (a count); unset: reported only.',
    }),
    baselineMs: positiveDurationMs.default(1000).meta({
      description: 'The steady rate is the mean count per bucket over this long before the outage start, ms.',
    }),
    waveFactor: z.number().gt(1).default(3).meta({
      description:
        'A wave starts from a bucket holding more than this many times its level (the larger of the steady count per bucket and the median of the buckets within ±`localMs`), and at least 5 calls over steady, and takes in the neighbouring buckets over halfway between level and that threshold.',
    }),
    localMs: positiveDurationMs
      .default(1000)
      .meta({ description: "Half-width of the window whose median is a bucket's level, ms." }),
    mergeMs: durationMs
      .default(300)
      .meta({ description: 'Runs of wave buckets at most this far apart are one wave, ms.' }),
    minWaveSize: z.int().positive().optional().meta({
      description:
        "Fewest calls a wave must hold beyond the level of the traffic around it (its excess, a count). Default: half the calls in flight at the outage start (arrived at the dependency's proxy, not yet answered), at least 10 — the batch an outage fails at once is what comes back as a wave, and it scales with rate × latency.",
    }),
    stallMs: durationMs.default(500).meta({
      description:
        "A burst's excess is reduced by the calls missing (below the level) in this long before it, ms: a process that stalled — the target, or whatbreaks stamping the arrivals — releases what it held back as one burst, which is not a herd.",
    }),
    maxGeneratorLagMs: positiveDurationMs.default(100).meta({
      description:
        "Judge only when the load generator kept its schedule: p99 of (send − intended send) at most this, ms. A starved generator (a loaded machine) bunches requests and starves the proxy's clock too; such a trial is `unknown`, in both directions. Measured on a shared 2-core machine: trials with a p99 lag of 150–240 ms gave wrong verdicts both ways, none at 100 ms or less.",
    }),
    settleMs: positiveDurationMs.default(1000).meta({
      description:
        'Recovered once the rate stays within ±`tolerance` of steady, per `smoothMs` chunk, for this long, ms.',
    }),
    smoothMs: positiveDurationMs
      .default(500)
      .meta({ description: 'Chunk over which the rate is averaged for recovery, ms.' }),
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

/** The attempt header read when the scenario names none (if the dependency records it). */
export const DEFAULT_ATTEMPT_HEADER = 'x-attempt';

/**
 * Scenario-time checks (the loader reports them at the invariant's line, with every other issue): the
 * dependency exists behind an HTTP proxy, and a given `attemptHeader` is one its proxy records — else
 * every trial would be judged without it, silently.
 */
export function check(
  cfg: HerdInvariantConfig,
  ctx: InvariantCheckContext,
): { field: string; message: string }[] {
  const dep = ctx.dependencies[cfg.dependency];
  if (!dep) {
    const http = Object.entries(ctx.dependencies).filter(([, d]) => d.proxy === 'http');
    return [
      {
        field: 'dependency',
        message: `no dependency named '${cfg.dependency}'${http.length ? `; behind HTTP proxies: ${http.map(([n]) => n).join(', ')}` : ' (declare it under dependencies:)'}`,
      },
    ];
  }
  if (dep.proxy !== 'http')
    return [
      {
        field: 'dependency',
        message: `dependency '${cfg.dependency}' has proxy: ${dep.proxy}; the herd invariant needs proxy: http (its records are the arrivals)`,
      },
    ];
  const header = cfg.attemptHeader?.toLowerCase();
  if (header !== undefined && !dep.recordHeaders.some((h) => h.toLowerCase() === header))
    return [
      {
        field: 'attemptHeader',
        message: `dependency '${cfg.dependency}' does not record '${cfg.attemptHeader}': add it to dependencies.${cfg.dependency}.recordHeaders`,
      },
    ];
  return [];
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describe(h: HerdReport): string {
  if (h.waves.length === 0) return 'no waves';
  const at = h.waves.map((w) => `+${s(w.sinceOutageMs)}`).join(', ');
  const gaps = h.waves.flatMap((w) => (w.gapMs !== undefined ? [s(w.gapMs)] : []));
  return `${h.waves.length} wave${h.waves.length === 1 ? '' : 's'} at ${at} after the outage start${gaps.length ? ` (gaps ${gaps.join(', ')}: ${h.pattern})` : ''}`;
}

/** p99 of (send − intended send) over the records that have a schedule, ms; 0 without any. */
export function generatorLagP99(records: readonly { sentAtMs: number; intendedAtMs?: number }[]): number {
  const lags = records
    .filter((r) => r.intendedAtMs !== undefined)
    .map((r) => r.sentAtMs - r.intendedAtMs!)
    .sort((a, b) => a - b);
  return lags.length ? lags[Math.ceil(0.99 * lags.length) - 1]! : 0;
}

export function create(cfg: HerdInvariantConfig): Invariant {
  const header = (cfg.attemptHeader ?? DEFAULT_ATTEMPT_HEADER).toLowerCase();
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
      const recorded = upstreams?.[cfg.dependency];
      if (!recorded) {
        return {
          ...base,
          holds: 'unknown',
          summary: `no arrivals recorded for '${cfg.dependency}' (is it a dependency with proxy: http?)`,
        };
      }
      const attempts = readAttempts(
        recorded.map((a) => a.headers[header]),
        header,
        cfg.firstAttempt,
      );
      const arrivals = recorded.map((a, i) => ({
        atMs: a.atMs,
        ...(a.endMs !== undefined ? { endMs: a.endMs } : {}),
        ...(attempts.retry[i] !== undefined ? { retry: attempts.retry[i] } : {}),
        ...(a.hitInFlight ? { hitInFlight: true } : {}),
      }));
      const lagP99 = generatorLagP99(load.records);
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
        stallMs: cfg.stallMs,
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
      const retries =
        attempts.source === 'header'
          ? `retries from '${header}'`
          : attempts.source === 'none'
            ? `no '${header}' header: waves from counts alone, retries estimated`
            : `${attempts.note}; waves from counts alone, retries estimated`;
      const summary =
        `peak/mean ${h.peakToMean.toFixed(2)} (${cfg.maxPeakToMean !== undefined ? `max ${cfg.maxPeakToMean}; ` : ''}peak ${h.peak.count} in ${cfg.bucketMs} ms at ${s(h.peak.tMs)}, steady ${h.steadyPerBucket.toFixed(1)})` +
        `; ${describe(h)}${cfg.maxWaves !== undefined ? ` (max ${cfg.maxWaves})` : ''}` +
        ` (a wave: ≥ ${h.minWaveSize} calls over the traffic around it; ${h.inFlightAtOutage} in flight at the outage start; ${retries})` +
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
            excess: w.excess,
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
