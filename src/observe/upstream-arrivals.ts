import type { StartedDependencies } from '../env/dependencies.js';
import type { HttpRequestRecord } from '../faults/http-faults.js';

/**
 * Upstream arrivals: every request the target sent to a dependency behind an HTTP fault proxy during
 * one trial, on the trial's time axis (ms since trial start, like request records and fault windows).
 *
 * The single source of truth is the proxy's own request log (`src/faults/http-faults.ts`), not the
 * dependency's: during an outage the proxy answers 503 itself and those calls never reach the
 * dependency process — yet they are exactly the retry waves the herd invariant looks for. The proxy is
 * the upstream as the target sees it. Both run in the whatbreaks process on `performance.now()`, so no
 * clock has to be translated between processes.
 */
export interface UpstreamArrival {
  /** Arrival at the proxy, ms since trial start. */
  atMs: number;
  /** Response ended or connection cut, ms since trial start. */
  endMs?: number;
  path: string;
  /** `x-client-id` of the call, if the target passed it on. */
  clientId?: string;
  /**
   * The request headers the proxy records (the dependency's `recordHeaders`, lower-case names), as sent;
   * e.g. the attempt header the `herd` invariant reads (`x-attempt` by default).
   */
  headers: Readonly<Record<string, string>>;
  status?: number;
  /** `ok`, `fault` (answered by a fault), `aborted`, `reset`, `upstream-error`, `client-gone`, `pending`. */
  outcome: HttpRequestRecord['outcome'];
  /** The fault that hit this call (`status`, `abort`, `delay`), and whether it hit it in flight. */
  fault?: string;
  hitInFlight?: boolean;
}

/** Arrivals per dependency name. */
export type UpstreamArrivals = Readonly<Record<string, readonly UpstreamArrival[]>>;

export interface ArrivalRecorder {
  /** The trial is over: every arrival since `start`, per HTTP-proxied dependency. */
  stop(): UpstreamArrivals;
}

/**
 * Start recording now. `trialOriginMs` is the `performance.now()` value of the trial's ms 0.
 */
export function recordUpstreamArrivals(
  deps: StartedDependencies | undefined,
  trialOriginMs: number,
): ArrivalRecorder {
  const marks = new Map<string, number>();
  for (const d of deps?.all ?? []) if (d.http) marks.set(d.name, d.http.records().length);
  return {
    stop() {
      const out: Record<string, UpstreamArrival[]> = {};
      for (const d of deps?.all ?? []) {
        if (!d.http) continue;
        const since = marks.get(d.name) ?? 0;
        out[d.name] = d.http
          .records()
          .slice(since)
          .map((r) => toArrival(r, trialOriginMs));
      }
      return out;
    },
  };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function toArrival(r: HttpRequestRecord, origin: number): UpstreamArrival {
  return {
    atMs: round(r.atMs - origin),
    ...(r.endMs !== undefined ? { endMs: round(r.endMs - origin) } : {}),
    path: r.path,
    ...(r.headers['x-client-id'] !== undefined ? { clientId: r.headers['x-client-id'] } : {}),
    headers: r.headers,
    ...(r.status !== undefined ? { status: r.status } : {}),
    outcome: r.outcome,
    ...(r.fault ? { fault: r.fault } : {}),
    ...(r.hitInFlight ? { hitInFlight: true } : {}),
  };
}
