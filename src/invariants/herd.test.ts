import { describe, expect, it } from 'vitest';
import type { UpstreamArrival } from '../observe/upstream-arrivals.js';
import { check, config, create, type HerdInvariantConfig } from './herd.js';
import type { HerdReport } from './herd-analysis.js';
import { type HerdSimulation, type SimulatedTrial, simulateHerd } from './herd-fixture.js';
import type { InvariantResult, QueryableDatabase } from './types.js';

/**
 * The herd invariant on simulated trials (`herd-fixture.ts`): a service at 200 req/s calling a 500 ms
 * dependency (100 calls in flight), a 5 s outage at 2 s that fails them all at once, retries after
 * 1 s·2^n with no jitter (waves at +1 s, +3 s, +7 s) or with full jitter (none).
 */
const BUGGY: HerdSimulation = {
  ratePerSec: 200,
  latencyMs: 500,
  durationMs: 14_000,
  outage: { startMs: 2000, endMs: 7000 },
  jitter: 'none',
};
const FIXED: HerdSimulation = { ...BUGGY, jitter: 'full' };

const db: QueryableDatabase = {
  query: () => Promise.reject(new Error('the herd invariant does not query the database')),
};

function herd(options: Record<string, unknown> = {}): HerdInvariantConfig {
  return config.parse({ type: 'herd', name: 'no-retry-waves', maxWaves: 1, ...options });
}

async function judge(
  cfg: HerdInvariantConfig,
  t: SimulatedTrial,
): Promise<InvariantResult & { h: HerdReport }> {
  const r = await create(cfg).check({
    trial: 1,
    db,
    load: t.load,
    faults: t.faults,
    upstreams: { upstream: t.arrivals },
  });
  return { ...r, h: r.measurements?.herd as HerdReport };
}

/** Starts of the waves after the outage start, ms, rounded to 100 ms. */
const starts = (h: HerdReport) => h.waves.map((w) => Math.round(w.sinceOutageMs / 100) * 100);

describe('herd invariant: waves with and without an attempt header', () => {
  it('1-based attempts (x-attempt: 1 on the first try): three waves of retries, fails', async () => {
    const r = await judge(herd(), simulateHerd(BUGGY));
    expect(r.holds).toBe(false);
    expect(starts(r.h)).toEqual([1000, 3000, 7000]);
    expect(r.h.retriesFrom).toBe('header');
    for (const w of r.h.waves) expect(w.retries).toBeGreaterThanOrEqual(100);
    expect(r.witnesses).toHaveLength(3);
    expect(r.summary).toContain("retries from 'x-attempt'");
  });

  it('0-based attempts under another name, declared (firstAttempt: 0): three waves of retries, fails', async () => {
    const t = simulateHerd({ ...BUGGY, attempts: { header: 'x-retry-count', first: 0 } });
    const r = await judge(herd({ attemptHeader: 'X-Retry-Count', firstAttempt: 0 }), t);
    expect(r.holds).toBe(false);
    expect(starts(r.h)).toEqual([1000, 3000, 7000]);
    expect(r.h.retriesFrom).toBe('header');
    for (const w of r.h.waves) expect(w.retries).toBeGreaterThanOrEqual(100);
    expect(r.summary).toContain("retries from 'x-retry-count'");
  });

  it('0-based attempts read with the default numbering: the header is ignored, the +1 s wave still found', async () => {
    // Read as 1-based, the first retries (`x-attempt: 1`) would pass for first tries and the +1 s wave
    // would be dropped as "not made of retries" — the wave users saw missing.
    const t = simulateHerd({ ...BUGGY, attempts: { header: 'x-attempt', first: 0 } });
    const r = await judge(herd(), t);
    expect(r.holds).toBe(false);
    expect(starts(r.h)).toEqual([1000, 3000, 7000]);
    expect(r.h.retriesFrom).toBe('excess');
    expect(r.summary).toContain('set firstAttempt: 0');
  });

  it('no attempt header: three waves from the counts alone, retries estimated as the excess', async () => {
    const r = await judge(herd(), simulateHerd({ ...BUGGY, attempts: null }));
    expect(r.holds).toBe(false);
    expect(starts(r.h)).toEqual([1000, 3000, 7000]);
    expect(r.h.retriesFrom).toBe('excess');
    expect(r.h.buckets[0]).not.toHaveProperty('retries');
    for (const w of r.h.waves) {
      // The batch of 100 in flight came back; the traffic around it is not counted as retries.
      expect(w.retries).toBeGreaterThanOrEqual(80);
      expect(w.retries).toBeLessThan(w.size);
    }
    expect(r.summary).toContain("no 'x-attempt' header: waves from counts alone");
  });

  it('full jitter: no waves and it holds, with and without the header', async () => {
    for (const attempts of [undefined, { header: 'x-attempt', first: 0 as const }, null]) {
      const r = await judge(herd(), simulateHerd({ ...FIXED, attempts }));
      expect(r.holds, r.summary).toBe(true);
      expect(r.h.waves).toEqual([]);
    }
  });
});

describe('herd invariant: minWaveSize scales with the calls in flight at the outage start', () => {
  it('defaults to half the batch in flight, so waves smaller than half a second of traffic count', async () => {
    // 200 req/s × 300 ms: 60 calls in flight; each wave (~75 calls) is less than half a second of
    // traffic (100 calls), the old default that dropped them.
    const r = await judge(herd(), simulateHerd({ ...BUGGY, latencyMs: 300 }));
    expect(r.h.inFlightAtOutage).toBe(60);
    expect(r.h.minWaveSize).toBe(30);
    expect(starts(r.h)).toEqual([1000, 3000, 7000]);
    for (const w of r.h.waves) expect(w.size).toBeLessThan(100);
    expect(r.holds).toBe(false);
  });

  it('grows with a slower dependency, and a given minWaveSize wins', async () => {
    const slow = await judge(herd(), simulateHerd({ ...BUGGY, ratePerSec: 100, latencyMs: 2500 }));
    expect(slow.h.inFlightAtOutage).toBe(200);
    expect(slow.h.minWaveSize).toBe(100);
    expect(slow.h.waves).toHaveLength(3);
    const given = await judge(
      herd({ minWaveSize: 250 }),
      simulateHerd({ ...BUGGY, ratePerSec: 100, latencyMs: 2500 }),
    );
    expect(given.h.minWaveSize).toBe(250);
    expect(given.h.waves).toEqual([]);
    expect(given.holds).toBe(true);
  });

  it('is at least 10 when next to nothing was in flight', async () => {
    const r = await judge(herd(), simulateHerd({ ...BUGGY, latencyMs: 20 }));
    expect(r.h.inFlightAtOutage).toBeLessThan(10);
    expect(r.h.minWaveSize).toBe(10);
  });
});

describe('herd invariant: unknown, never pass, when the trial cannot be judged', () => {
  it('without an applied outage', async () => {
    const t = simulateHerd(FIXED);
    for (const faults of [
      [],
      [{ ...t.faults[0]!, outcome: 'skipped' as const }],
      [{ ...t.faults[0]!, target: 'stock' }],
    ]) {
      const r = await judge(herd(), { ...t, faults });
      expect(r.holds).toBe('unknown');
      expect(r.summary).toContain("no outage of 'upstream' was applied");
    }
  });

  it('when the load generator ran late (p99 over maxGeneratorLagMs), for the buggy and the fixed variant', async () => {
    for (const sim of [BUGGY, FIXED]) {
      const late = await judge(herd(), simulateHerd({ ...sim, generatorLagMs: 110 }));
      expect(late.holds).toBe('unknown');
      expect(late.summary).toContain('sent up to 110 ms late');
      const onTime = await judge(herd(), simulateHerd({ ...sim, generatorLagMs: 90 }));
      expect(onTime.holds).toBe(sim !== BUGGY);
    }
  });

  it('without calls before the outage (no steady state), or without arrivals for the dependency', async () => {
    const t = simulateHerd(BUGGY);
    const r = await judge(herd(), { ...t, arrivals: t.arrivals.filter((a) => a.atMs >= 2000) });
    expect(r.holds).toBe('unknown');
    expect(r.summary).toContain('no steady state');
    const none = await create(herd()).check({ trial: 1, db, load: t.load, faults: t.faults, upstreams: {} });
    expect(none.holds).toBe('unknown');
    expect(none.summary).toContain("no arrivals recorded for 'upstream'");
  });
});

describe('herd invariant: bounds', () => {
  it('maxWaves: as many waves as allowed holds, one more fails', async () => {
    const t = simulateHerd(BUGGY);
    expect((await judge(herd({ maxWaves: 3 }), t)).holds).toBe(true);
    expect((await judge(herd({ maxWaves: 2 }), t)).holds).toBe(false);
  });

  it('maxPeakToMean: the measured ratio holds, just under it fails', async () => {
    const t = simulateHerd(BUGGY);
    const ratio = (await judge(herd(), t)).h.peakToMean;
    expect(ratio).toBeGreaterThan(4);
    expect((await judge(herd({ maxWaves: undefined, maxPeakToMean: ratio }), t)).holds).toBe(true);
    const over = await judge(herd({ maxWaves: undefined, maxPeakToMean: ratio - 0.01 }), t);
    expect(over.holds).toBe(false);
    expect(over.witnesses).toHaveLength(3);
  });

  it('maxRecoveryMs: the measured recovery holds, 1 ms less fails, and a rate that never came back fails', async () => {
    const t = simulateHerd(FIXED);
    const recovery = (await judge(herd(), t)).h.recoveryMs!;
    expect(recovery).toBeGreaterThan(0);
    expect((await judge(herd({ maxWaves: undefined, maxRecoveryMs: recovery }), t)).holds).toBe(true);
    expect((await judge(herd({ maxWaves: undefined, maxRecoveryMs: recovery - 1 }), t)).holds).toBe(false);
    // The dependency never sees its steady rate again (the service gave up calling it).
    const gone = { ...t, arrivals: t.arrivals.filter((a: UpstreamArrival) => a.atMs < 7000) };
    const r = await judge(herd({ maxWaves: undefined, maxRecoveryMs: 1_000_000 }), gone);
    expect(r.h.recoveryMs).toBeNull();
    expect(r.holds).toBe(false);
    expect(r.summary).toContain('did not recover before the end');
  });

  it('needs at least one bound', () => {
    expect(config.safeParse({ type: 'herd', name: 'x' }).success).toBe(false);
  });
});

describe('herd invariant: scenario-time checks', () => {
  const deps = {
    upstream: { proxy: 'http', recordHeaders: ['x-client-id', 'X-Retry-Count'] },
    db: { proxy: 'tcp', recordHeaders: [] },
  };
  it('accepts a recorded attempt header (any case), and the default header unrecorded', () => {
    expect(check(herd({ attemptHeader: 'x-retry-count' }), { dependencies: deps })).toEqual([]);
    expect(check(herd(), { dependencies: deps })).toEqual([]);
  });

  it('names an attempt header the proxy does not record, a missing dependency and a non-HTTP one', () => {
    expect(check(herd({ attemptHeader: 'x-attempt' }), { dependencies: deps })).toEqual([
      {
        field: 'attemptHeader',
        message:
          "dependency 'upstream' does not record 'x-attempt': add it to dependencies.upstream.recordHeaders",
      },
    ]);
    expect(check(herd({ dependency: 'stock' }), { dependencies: deps })).toEqual([
      { field: 'dependency', message: "no dependency named 'stock'; behind HTTP proxies: upstream" },
    ]);
    expect(check(herd({ dependency: 'db' }), { dependencies: deps })[0]!.message).toContain(
      "dependency 'db' has proxy: tcp",
    );
  });
});
