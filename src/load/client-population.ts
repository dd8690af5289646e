import { Pool } from 'undici';
import { z } from 'zod';
import { requestTemplateSchema } from '../scenario/request-template.js';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import { errorCode } from './burst/undici-common.js';
import type { LoadExecutor } from './executor.js';
import type { PreparedRequest, RequestRecord } from './types.js';

/**
 * `client-population`: K virtual clients — users, devices, services — each calling the target at its
 * own steady pace, the way a population of callers does (k6's `constant-vus` with a pacing, per client).
 *
 * ```yaml
 * load:
 *   type: client-population
 *   clients: 1000        # default 1,000
 *   intervalMs: 2s       # each client: one request every 2 s, on its own phase
 *   rampMs: 2s           # client k starts at k·rampMs/clients: phases spread evenly
 *   durationMs: 14s      # new requests until then; those in flight are awaited
 *   request: { method: POST, path: /api/checkout, json: { amount: 4200 } }
 * ```
 *
 * Semantics: each client is a *closed* loop with a *pacing*. Its ticks are `start_k + m·intervalMs`;
 * at a tick it sends one request and waits for the response — a client never has two in flight — and
 * then waits for its next tick. Ticks that passed while it waited are skipped, not made up (a user
 * whose checkout took 7 s does not then click three times). So while the target is fast the population
 * behaves like an open model at `clients / intervalMs` req/s (each client keeps its phase); when the
 * target is slow the population backs off as real callers do, and every client comes back on its own
 * phase. Bursts at the target's dependencies are then the target's doing (its retries), not the
 * generator's. Every request carries `x-client-id: <k>` (0-based) so the target can pass it on.
 *
 * Records: `connection` is the client number (requests share one undici `Pool` of `connections`
 * keep-alive connections, default min(clients, 1000); a client has no socket of its own, so 10,000
 * clients do not need 10,000 sockets), `intendedAtMs` the tick, `latencyMs` from the actual send
 * (including any wait for a pool connection). A generator that sends late (p99 of send − tick over
 * `LATE_MS`) carries a warning: it, not only the target, shaped the load.
 */
export const config = z
  .strictObject({
    type: z.literal('client-population'),
    clients: z.int().min(1).max(100_000).default(1_000).meta({ description: 'Virtual clients.' }),
    intervalMs: positiveDurationMs.meta({
      description: 'Pacing of each client: one request per interval, ms (`2s`, `500ms`).',
    }),
    rampMs: durationMs.optional().meta({
      description:
        'Clients start staggered evenly over this long, ms; 0 starts them all at once. Default `intervalMs`.',
    }),
    durationMs: positiveDurationMs.meta({
      description: 'How long clients start new requests, ms; in-flight ones are then awaited.',
    }),
    connections: z.int().min(1).max(20_000).optional().meta({
      description: 'Keep-alive connections to the target shared by all clients; default min(clients, 1000).',
    }),
    timeoutMs: positiveDurationMs.default(30_000).meta({
      description:
        "Deadline of each request: for its response headers, then between body chunks, ms (undici's timeouts).",
    }),
    request: requestTemplateSchema,
  })
  .meta({
    description:
      "`client-population`: K virtual clients — users, devices, services — each calling the target at its own steady pace, the way a population of callers does (k6's `constant-vus` with a pacing, per client).",
    yaml: 'load:\n  type: client-population\n  clients: 1000        # default 1,000\n  intervalMs: 2s       # each client: one request every 2 s, on its own phase\n  rampMs: 2s           # client k starts at k·rampMs/clients: phases spread evenly\n  durationMs: 14s      # new requests until then; those in flight are awaited\n  request: { method: POST, path: /api/checkout, json: { amount: 4200 } }',
  });
export type ClientPopulationConfig = z.output<typeof config>;

/** A send later than this after its tick counts as generator lag, ms. */
export const LATE_MS = 50;

/** Known in advance: the timeline validator rejects faults planned after it. */
export function plannedDurationMs(cfg: ClientPopulationConfig): number {
  return cfg.durationMs;
}

async function send(
  pool: Pool,
  req: PreparedRequest,
  clock: () => number,
): Promise<Pick<RequestRecord, 'status' | 'latencyMs' | 'error' | 'body'>> {
  const t0 = clock();
  try {
    const res = await pool.request({
      method: req.method as 'GET',
      path: req.path,
      headers: req.headers,
      body: req.body,
    });
    const text = await res.body.text();
    return { status: res.statusCode, latencyMs: clock() - t0, body: text.slice(0, 512) };
  } catch (err) {
    return { error: errorCode(err) };
  }
}

/**
 * Timers for many sleepers with one abort listener between them (one listener per client would be
 * 10,000 listeners on the run's signal).
 */
function sleeper(clock: () => number, signal: AbortSignal) {
  const pending = new Map<NodeJS.Timeout, (ok: boolean) => void>();
  const onAbort = () => {
    for (const [t, resolve] of pending) {
      clearTimeout(t);
      resolve(false);
    }
    pending.clear();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    /** Sleep until `clock()` reads `atMs`; false when aborted first. */
    until(atMs: number): Promise<boolean> {
      if (signal.aborted) return Promise.resolve(false);
      const ms = atMs - clock();
      if (ms <= 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          pending.delete(t);
          resolve(true);
        }, ms);
        pending.set(t, resolve);
      });
    },
    dispose: () => signal.removeEventListener('abort', onAbort),
  };
}

/**
 * Of the `missed` ticks `first`, `first + intervalMs`, …, how many fall before `endAtMs` (ticks at or after
 * the end of the load were never due).
 */
export function skippedBefore(first: number, missed: number, intervalMs: number, endAtMs: number): number {
  if (first >= endAtMs) return 0;
  return Math.min(missed, Math.ceil((endAtMs - first) / intervalMs - 1e-9));
}

export function create(cfg: ClientPopulationConfig): LoadExecutor {
  const rampMs = cfg.rampMs ?? cfg.intervalMs;
  const connections = cfg.connections ?? Math.min(cfg.clients, 1000);
  return {
    async run(ctx) {
      const pool = new Pool(ctx.baseUrl.origin, {
        connections,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: cfg.timeoutMs,
        bodyTimeout: cfg.timeoutMs,
      });
      const records: RequestRecord[] = [];
      const lags: number[] = [];
      const progress = ctx.progress;
      let skippedTicks = 0;
      let next = 0;
      const sleep = sleeper(ctx.clock, ctx.signal);
      try {
        // Warm a handful of connections so the first ticks do not pay for connects.
        await Promise.all(
          Array.from({ length: Math.min(connections, 20) }, async () => {
            const res = await pool.request({ method: 'GET', path: ctx.healthPath });
            await res.body.dump();
          }),
        );
        const startAtMs = ctx.clock() + 5;
        const endAtMs = startAtMs + cfg.durationMs;
        const client = async (k: number) => {
          let tick = startAtMs + (k * rampMs) / cfg.clients;
          while (tick < endAtMs) {
            if (!(await sleep.until(tick))) return;
            const index = next++;
            const req = ctx.render(index);
            req.headers = { ...req.headers, 'x-client-id': String(k) };
            const sentAtMs = ctx.clock();
            lags.push(sentAtMs - tick);
            if (progress) progress.sent++;
            const r = await send(pool, req, ctx.clock);
            if (progress) progress.answered++;
            records.push({ index, connection: k, sentAtMs, intendedAtMs: tick, ...r });
            // The next tick on this client's phase; ticks that passed while it waited are skipped, and
            // counted (those before the end of the load only: after it there is no tick to miss).
            const now = ctx.clock();
            tick += cfg.intervalMs;
            if (tick <= now) {
              const missed = Math.ceil((now - tick) / cfg.intervalMs + 1e-9);
              skippedTicks += skippedBefore(tick, missed, cfg.intervalMs, endAtMs);
              tick += missed * cfg.intervalMs;
            }
          }
        };
        await Promise.all(Array.from({ length: cfg.clients }, (_, k) => client(k)));
        records.sort((a, b) => a.index - b.index);
        const warnings: string[] = [];
        lags.sort((a, b) => a - b);
        const p99 = lags.length ? lags[Math.min(lags.length - 1, Math.ceil(0.99 * lags.length) - 1)]! : 0;
        if (lags.length >= 100 && p99 > LATE_MS) {
          warnings.push(
            `the load generator sent late: p99 ${p99.toFixed(1)} ms after the clients' ticks (max ${lags.at(-1)!.toFixed(1)} ms); the generator, not only the target, shaped this load`,
          );
        }
        if (ctx.signal.aborted) warnings.push('interrupted: clients stopped early');
        if (skippedTicks > 0) {
          warnings.push(
            `${skippedTicks} client ticks skipped: the client's previous request was still in flight (${((100 * skippedTicks) / (skippedTicks + records.length)).toFixed(1)} % of ticks)`,
          );
        }
        return {
          kind: 'client-population',
          records,
          startedAtMs: startAtMs,
          durationMs: ctx.clock() - startAtMs,
          warnings,
          skippedTicks,
        };
      } finally {
        sleep.dispose();
        await pool.destroy().catch(() => undefined);
      }
    },
  };
}
