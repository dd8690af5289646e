import type { LoadResult, RequestRecord } from '../load/types.js';
import type { UpstreamArrival } from '../observe/upstream-arrivals.js';
import type { FaultRecord } from '../timeline/timeline.js';

/**
 * A retrying service and its dependency, simulated call by call, for the herd invariant's unit tests:
 * the data shapes a real trial hands the invariant (the proxy's arrivals, the load's records, the fault
 * timeline), from first principles:
 *
 * - requests reach the service at `ratePerSec`, evenly spaced with a little seeded noise, for `durationMs`;
 * - each makes a call to the dependency, which answers after `latencyMs`;
 * - the outage answers 503 at once to calls that arrive during it, and begins by failing every call in
 *   flight (`fail-in-flight`: the correlated failure that synchronizes retry clocks);
 * - a failed call is retried after `base·2^(n−1)` (no jitter) or `random(0, min(cap, base·2^(n−1)))`
 *   (full jitter), plus a wake-up smear `random(0, smearMs)` (threads do not all wake in the same ms),
 *   at most `maxRetries` times;
 * - each call carries the attempt header as the service numbers it (`0`- or `1`-based), or none.
 *
 * Times in ms since trial start; seeded (mulberry32), so every run gives the same arrivals.
 */
export interface HerdSimulation {
  ratePerSec: number;
  latencyMs: number;
  durationMs: number;
  outage: { startMs: number; endMs: number };
  jitter: 'none' | 'full';
  baseMs?: number;
  capMs?: number;
  maxRetries?: number;
  smearMs?: number;
  /** The attempt header's name and first value; `null` sends none. Default `x-attempt`, 1-based. */
  attempts?: { header: string; first: 0 | 1 } | null;
  /** How late the load generator sends each request after its tick, ms (every request). Default 1. */
  generatorLagMs?: number;
  /** Seed of the noise. Default 1. */
  seed?: number;
}

export interface SimulatedTrial {
  arrivals: UpstreamArrival[];
  load: LoadResult;
  faults: FaultRecord[];
}

/** Seeded uniform [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function simulateHerd(s: HerdSimulation): SimulatedTrial {
  const random = rng(s.seed ?? 1);
  const base = s.baseMs ?? 1000;
  const cap = s.capMs ?? 4000;
  const maxRetries = s.maxRetries ?? (s.jitter === 'none' ? 5 : 3);
  const smear = s.smearMs ?? 20;
  const attempts = s.attempts === undefined ? { header: 'x-attempt', first: 1 as const } : s.attempts;
  const lag = s.generatorLagMs ?? 1;
  const { startMs, endMs } = s.outage;
  const arrivals: UpstreamArrival[] = [];
  const records: RequestRecord[] = [];
  const n = Math.floor((s.durationMs / 1000) * s.ratePerSec);
  for (let i = 0; i < n; i++) {
    const tick = (i + random() * 0.5) * (1000 / s.ratePerSec);
    let at = tick + lag + 1;
    for (let k = 0; ; k++) {
      const down = at >= startMs && at < endMs;
      const cutInFlight = at < startMs && at + s.latencyMs > startMs;
      const end = down ? at + 1 : cutInFlight ? startMs : at + s.latencyMs;
      const failed = down || cutInFlight;
      arrivals.push({
        atMs: at,
        endMs: end,
        path: '/charge',
        clientId: String(i),
        headers: attempts ? { [attempts.header]: String(attempts.first + k) } : {},
        status: failed ? 503 : 200,
        outcome: failed ? 'fault' : 'ok',
        ...(cutInFlight ? { fault: 'status', hitInFlight: true } : {}),
      });
      if (!failed || k >= maxRetries) break;
      const exp = base * 2 ** k;
      at = end + (s.jitter === 'none' ? exp : random() * Math.min(cap, exp)) + random() * smear;
    }
    records.push({ index: i, connection: i, sentAtMs: tick + lag, intendedAtMs: tick, status: 200 });
  }
  arrivals.sort((a, b) => a.atMs - b.atMs);
  return {
    arrivals,
    load: {
      kind: 'client-population',
      records,
      startedAtMs: 0,
      durationMs: s.durationMs,
      warnings: [],
    },
    faults: [
      {
        type: 'upstream-down',
        target: 'upstream',
        atMs: startMs,
        startMs,
        endMs,
        detail: 'status 503 to every request; fail-in-flight',
        outcome: 'applied',
      },
    ],
  };
}
