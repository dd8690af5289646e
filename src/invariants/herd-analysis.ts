/**
 * The thundering herd, measured: upstream arrivals per time bucket around an outage, their peak/mean
 * ratio, the retry *waves* (periodic bursts) and the time the upstream needs after the outage to see
 * its steady rate again. Pure functions over arrival times; `herd.ts` turns the result into a verdict.
 *
 * Why waves and not only the peak: retries without jitter fall into lockstep only when the
 * failures were correlated in time — an outage that fails every call in flight at once. Then every
 * caller that failed at t₀ retries at t₀ + base·(2ⁿ − 1): +1 s, +3 s, +7 s with base 1 s (Marc Brooker,
 * "Exponential Backoff And Jitter", AWS Architecture Blog, 2015). One high bucket can be a stall of the
 * load generator; bursts that repeat with doubling gaps are the retry clock.
 *
 * Which calls were retries comes from an attempt header when the target sends one (`herd-attempts.ts`).
 * Without one, waves are found from the counts alone — the retry clock is visible in them — and a wave's
 * `retries` is an estimate: its calls beyond the level of the traffic around it (`retriesFrom: 'excess'`).
 *
 * All times are ms since trial start; counts are arrivals per bucket.
 */

export interface HerdArrival {
  /** Arrival at the dependency's proxy, ms since trial start. */
  atMs: number;
  /** Response ended or connection cut, ms since trial start; absent while still in flight at the end. */
  endMs?: number;
  /** `true` a retry, `false` a first try, absent when the caller does not say (no attempt header). */
  retry?: boolean;
  /** The outage's start failed or cut it in flight (`fail-in-flight`, `reset-in-flight`). */
  hitInFlight?: boolean;
}

export interface HerdOptions {
  /** Width of a bucket, ms. */
  bucketMs: number;
  /** The outage: from its start to its end, ms since trial start. */
  outage: { startMs: number; endMs: number };
  /** Buckets are drawn from here (e.g. the load start) … */
  fromMs: number;
  /** … to here (e.g. the last request the clients started), ms. */
  toMs: number;
  /** Steady state = the mean rate in the `baselineMs` before the outage, ms. */
  baselineMs: number;
  /**
   * A wave starts from a bucket holding more than `waveFactor` × its level: the larger of the steady
   * count per bucket and the median of the buckets within ±`localMs` (so a raised plateau — every caller
   * retrying during the outage — is not one long wave; a burst on top of it is). It takes in the
   * neighbouring buckets over halfway between level and threshold (a burst sent over a few buckets).
   */
  waveFactor: number;
  localMs: number;
  /** Bursts closer than this are one wave (a burst the target needed several goes to send), ms; default 300. */
  mergeMs?: number;
  /**
   * Fewest calls beyond the level in a wave (its `excess`); default half the calls in flight when the
   * outage began (at least 10): the batch an outage can fail at one instant is what a wave is made of
   * (`defaultMinWaveSize`).
   */
  minWaveSize?: number;
  /**
   * A burst's excess is reduced by the calls missing (below the level) in this long before it, ms;
   * default 500. A stalled process — the target, or the proxy that stamps the arrivals — sends what it
   * held back as one burst, which is not a herd.
   */
  stallMs?: number;
  /** Recovered: every `smoothMs` chunk of a `settleMs` stretch within ±`tolerance` of the steady rate. */
  settleMs: number;
  smoothMs: number;
  /** Relative, e.g. 0.3 = ±30 %. */
  tolerance: number;
}

export interface HerdBucket {
  /** Bucket start, ms since trial start. */
  tMs: number;
  /** Arrivals in the bucket. */
  count: number;
  /** Of those, calls whose attempt header said they were retries; absent without an attempt header. */
  retries?: number;
}

export interface HerdWave {
  /** Start of its first bucket, ms since trial start. */
  startMs: number;
  /** `startMs` − outage start, ms. */
  sinceOutageMs: number;
  /** Time since the previous wave started, ms (absent for the first). */
  gapMs?: number;
  /** Arrivals in its buckets. */
  size: number;
  /**
   * Of those, the calls beyond the level of the traffic around it, less the calls missing in the
   * `stallMs` before it (a stall's backlog is not a herd). At least `minWaveSize`.
   */
  excess: number;
  /**
   * Of those, the retries: with an attempt header, the calls it says were retries; without one, the
   * wave's `excess`, rounded, an estimate (`retriesFrom`).
   */
  retries: number;
  /** Its fullest bucket. */
  peak: number;
  /** Buckets it spans. */
  buckets: number;
}

/** `report.json` → `trials[].herd` (drawn by the HTML report as a histogram with the fault bands). */
export interface HerdReport {
  /** The dependency whose arrivals these are. */
  dependency: string;
  bucketMs: number;
  /** Every bucket from the load start to the end of the clients' sending; aligned on the outage start. */
  buckets: HerdBucket[];
  outage: { startMs: number; endMs: number };
  /** Mean arrivals per bucket in the `baselineMs` before the outage. */
  steadyPerBucket: number;
  /** Calls in flight at the outage start (arrived before it, not yet answered): the batch it could fail at once. */
  inFlightAtOutage: number;
  /** The fewest arrivals a wave needed (`minWaveSize`, given or the default from `inFlightAtOutage`). */
  minWaveSize: number;
  /** Where waves' `retries` come from: `header` (the attempt header) or `excess` (counts over the level). */
  retriesFrom: 'header' | 'excess';
  /** Mean arrivals per bucket from the outage start to the end. */
  meanPerBucket: number;
  /** Fullest bucket from the outage start to the end. */
  peak: HerdBucket;
  peakToMean: number;
  waves: HerdWave[];
  /** Rhythm of the major waves (`patternOf`): `doubling` (exponential backoff in lockstep), `periodic`, `irregular`, `none`. */
  pattern: 'doubling' | 'periodic' | 'irregular' | 'none';
  /**
   * From the outage end until the steady rate is back (and no wave follows), ms; null when it did not
   * come back before the end.
   */
  recoveryMs: number | null;
}

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Calls in flight at `atMs`: arrived before it and not answered by then (or answered at that instant,
 * or marked `hitInFlight`: the outage's own answer to them is stamped a little after its start).
 */
export function inFlightAt(arrivals: readonly HerdArrival[], atMs: number): number {
  let n = 0;
  for (const a of arrivals)
    if (a.atMs < atMs && (a.hitInFlight || a.endMs === undefined || a.endMs >= atMs)) n++;
  return n;
}

/**
 * Default fewest arrivals in a wave: half the calls in flight when the outage began, at least 10.
 *
 * A wave is the batch of calls an outage failed at one instant, coming back together; the batch is the
 * calls in flight then (rate × latency: 100 at 200 req/s and 500 ms, 250 at 100 req/s and 2.5 s). Half
 * of it leaves room for a batch the target sends over a few buckets, or of which some callers gave up.
 * A fixed number of seconds of traffic does not scale: half a second at 200 req/s is the whole batch of
 * a 500 ms dependency, so its real waves were dropped as too small.
 */
export function defaultMinWaveSize(inFlightAtOutage: number): number {
  return Math.max(10, Math.ceil(inFlightAtOutage / 2));
}

/** Analyse `arrivals` around `o.outage`. */
export function analyzeHerd(
  dependency: string,
  arrivals: readonly HerdArrival[],
  o: HerdOptions,
): HerdReport {
  const w = o.bucketMs;
  // Bucket edges aligned on the outage start, so a wave that begins with it is not split in two.
  const first = Math.floor((o.fromMs - o.outage.startMs) / w);
  const last = Math.floor((o.toMs - o.outage.startMs) / w); // exclusive: the partial last bucket is dropped
  const n = Math.max(0, last - first);
  const counts = new Array<number>(n).fill(0);
  const retries = new Array<number>(n).fill(0);
  const attemptsKnown = arrivals.some((a) => a.retry !== undefined);
  for (const a of arrivals) {
    const j = Math.floor((a.atMs - o.outage.startMs) / w) - first;
    if (j < 0 || j >= n) continue;
    counts[j]!++;
    if (a.retry) retries[j]!++;
  }
  const tOf = (j: number) => o.outage.startMs + (j + first) * w;
  const buckets: HerdBucket[] = counts.map((count, j) => ({
    tMs: round(tOf(j)),
    count,
    ...(attemptsKnown ? { retries: retries[j]! } : {}),
  }));
  const outageJ = -first;
  const baseFrom = Math.max(0, outageJ - Math.round(o.baselineMs / w));
  const base = counts.slice(baseFrom, Math.max(baseFrom, outageJ));
  const steady = base.length ? base.reduce((s, c) => s + c, 0) / base.length : 0;
  const after = counts.slice(Math.max(0, outageJ));
  const mean = after.length ? after.reduce((s, c) => s + c, 0) / after.length : 0;
  let peakJ = Math.max(0, outageJ);
  for (let j = peakJ; j < n; j++) if (counts[j]! > counts[peakJ]!) peakJ = j;

  // Waves: runs of buckets from the outage start on, each from a bucket over its threshold with the
  // neighbours over halfway to it (a wave the target sent over a few buckets: its whole mass, not only
  // its peak), runs at most `mergeMs` apart merged; kept when their excess reaches `minSize` and — when
  // the attempt header says — they are made of retries: a burst of first attempts is the callers' doing
  // (a stalled load generator catching up), not the retry clock.
  const half = Math.max(1, Math.round(o.localMs / w));
  const level = counts.map((_, j) =>
    Math.max(steady, median(counts.slice(Math.max(0, j - half), j + half + 1))),
  );
  const threshold = level.map((l) => Math.max(o.waveFactor * l, steady + 5));
  const inFlight = inFlightAt(arrivals, o.outage.startMs);
  const minSize = o.minWaveSize ?? defaultMinWaveSize(inFlight);
  const merge = Math.max(0, Math.round((o.mergeMs ?? 300) / w));
  const halfway = level.map((l, j) => (l + threshold[j]!) / 2);
  const first0 = Math.max(0, outageJ);
  const runs: [number, number][] = [];
  for (let j = first0; j < n; j++) {
    if (counts[j]! <= threshold[j]!) continue;
    let k = j;
    while (k + 1 < n && counts[k + 1]! > halfway[k + 1]!) k++;
    let start = j;
    while (
      start - 1 >= first0 &&
      counts[start - 1]! > halfway[start - 1]! &&
      start - 1 > (runs.at(-1)?.[1] ?? -1)
    )
      start--;
    const prev = runs.at(-1);
    if (prev && start - prev[1] - 1 <= merge) prev[1] = k;
    else runs.push([start, k]);
    j = k;
  }
  const waves: HerdWave[] = [];
  const stall = Math.max(0, Math.round((o.stallMs ?? 500) / w));
  for (const [j, k] of runs) {
    const span = counts.slice(j, k + 1);
    const size = span.reduce((a, c) => a + c, 0);
    // Calls beyond the level, less the calls missing in the `stallMs` before: a process that stalled
    // (the target, or the proxy stamping the arrivals) releases what it held back as one burst — as many
    // calls as were missing before it. A herd comes on top of the traffic, not instead of it.
    let excess = 0;
    for (let b = j; b <= k; b++) excess += counts[b]! - level[b]!;
    for (let b = Math.max(0, j - stall); b < j; b++) excess -= Math.max(0, level[b]! - counts[b]!);
    const retried = attemptsKnown
      ? retries.slice(j, k + 1).reduce((a, c) => a + c, 0)
      : Math.max(0, Math.round(excess));
    if (excess < minSize || (attemptsKnown && retried < size / 2)) continue;
    const startMs = tOf(j);
    const prev = waves.at(-1);
    waves.push({
      startMs: round(startMs),
      sinceOutageMs: round(startMs - o.outage.startMs),
      ...(prev ? { gapMs: round(startMs - prev.startMs) } : {}),
      size,
      excess: round(excess, 1),
      retries: retried,
      peak: Math.max(...span),
      buckets: k - j + 1,
    });
  }
  const lastWave = waves.at(-1);
  const quietFromMs = lastWave ? lastWave.startMs + lastWave.buckets * w : Number.NEGATIVE_INFINITY;

  return {
    dependency,
    bucketMs: w,
    buckets,
    outage: { startMs: round(o.outage.startMs), endMs: round(o.outage.endMs) },
    steadyPerBucket: round(steady),
    inFlightAtOutage: inFlight,
    minWaveSize: minSize,
    retriesFrom: attemptsKnown ? 'header' : 'excess',
    meanPerBucket: round(mean),
    peak:
      n > 0
        ? {
            tMs: round(tOf(peakJ)),
            count: counts[peakJ]!,
            ...(attemptsKnown ? { retries: retries[peakJ]! } : {}),
          }
        : { tMs: o.outage.startMs, count: 0 },
    peakToMean: mean > 0 && n > 0 ? round(counts[peakJ]! / mean) : 0,
    waves,
    pattern: patternOf(waves),
    recoveryMs: recovery(counts, tOf, steady, o, quietFromMs),
  };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/**
 * The rhythm of the major waves (at least half the size of the largest: a wave that the target needed
 * two goes to send is one beat): gaps that double (ratio 2 ± 0.6) → `doubling`; equal gaps (ratio 1 ±
 * 0.3) → `periodic`; else `irregular`; fewer than two waves → `none`.
 */
export function patternOf(waves: readonly HerdWave[]): HerdReport['pattern'] {
  const largest = Math.max(0, ...waves.map((w) => w.size));
  const major = waves.filter((w) => w.size >= largest / 2);
  const gaps = major.slice(1).map((w, i) => w.startMs - major[i]!.startMs);
  if (gaps.length === 0) return 'none';
  if (gaps.length === 1) return 'irregular';
  const ratios = gaps.slice(1).map((g, i) => g / gaps[i]!);
  if (ratios.every((r) => Math.abs(r - 2) <= 0.6)) return 'doubling';
  if (ratios.every((r) => Math.abs(r - 1) <= 0.3)) return 'periodic';
  return 'irregular';
}

function recovery(
  counts: readonly number[],
  tOf: (j: number) => number,
  steady: number,
  o: HerdOptions,
  quietFromMs: number,
): number | null {
  if (steady <= 0) return null;
  const w = o.bucketMs;
  const chunk = Math.max(1, Math.round(o.smoothMs / w));
  const settle = Math.max(chunk, Math.round(o.settleMs / w));
  // Not before the outage ended, nor before the last wave: a rate back to steady between two waves is not a recovery.
  const startJ = Math.max(0, Math.ceil((Math.max(o.outage.endMs, quietFromMs) - tOf(0)) / w));
  const lo = steady * (1 - o.tolerance);
  const hi = steady * (1 + o.tolerance);
  for (let j = startJ; j + settle <= counts.length; j++) {
    let ok = true;
    for (let c = j; c + chunk <= j + settle && ok; c += chunk) {
      let sum = 0;
      for (let k = c; k < c + chunk; k++) sum += counts[k]!;
      const rate = sum / chunk;
      ok = rate >= lo && rate <= hi;
    }
    if (ok) return round(Math.max(0, tOf(j) - o.outage.endMs));
  }
  return null;
}
