import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { z } from 'zod';
import { requestTemplateSchema } from '../scenario/request-template.js';
import { errorCode } from './burst/undici-common.js';
import { DROPPED, LATE_THRESHOLD_MS, openModelStats } from './constant-arrival-rate-stats.js';
import type { LoadExecutor } from './executor.js';
import type { PreparedRequest, RequestRecord } from './types.js';

/**
 * `constant-arrival-rate` (k6's name): the open model. Request k is *intended* at
 * `k × 1000 / rate` ms after the start, whatever happened to the requests before it — users keep
 * arriving while the service stalls. Latency is recorded from the intended send time (corrected for
 * coordinated omission, as wrk2 does; Gil Tene) and from the actual send (uncorrected), both in HDR
 * histograms (`constant-arrival-rate-stats.ts`).
 *
 * ```yaml
 * load:
 *   type: constant-arrival-rate
 *   rate: 2000                    # req/s
 *   durationMs: 10000
 *   preAllocatedConnections: 20   # opened and warmed before the clock starts
 *   maxConnections: 200           # grown on demand, one request in flight per connection
 *   request: { method: GET, path: /api/things/{{n}} }
 * ```
 *
 * Connections: HTTP/1.1 keep-alive, one request in flight each (no pipelining). When a request is due
 * and every open connection is busy, a new one is opened up to `maxConnections`; beyond that the
 * request waits in a FIFO queue for the next free connection — its corrected latency includes the
 * wait. A request that waited `maxQueueMs` without getting a connection is *dropped*: recorded with
 * error `dropped` and no latency (k6 drops at once; we wait, because dropping at once would hide exactly
 * the stall coordinated-omission correction is there to show).
 *
 * Timing: the scheduler sleeps with `setTimeout` until about 2 ms before the next intended send, then
 * yields with `setImmediate` (so responses are still read) until it is due. This spends CPU near each
 * send: at 2,000 req/s, about one core. If the generator's own lag (sends that had a free connection
 * but went out late) has p99 over 1 ms, the run carries a warning: the generator, not the target,
 * limited the schedule.
 */
export const config = z
  .strictObject({
    type: z.literal('constant-arrival-rate'),
    /** Arrival rate, req/s. */
    rate: z.number().positive().max(1_000_000),
    /** How long new requests arrive, ms; in-flight requests are then awaited. */
    durationMs: z.int().positive(),
    /** Connections opened and warmed (one `GET` of the health path each) before the clock starts. */
    preAllocatedConnections: z.int().min(1).max(10_000).default(10),
    /** Most connections ever open; default `preAllocatedConnections`. */
    maxConnections: z.int().min(1).max(10_000).optional(),
    /** Longest a due request waits for a connection before it is dropped, ms. */
    maxQueueMs: z.int().positive().default(10_000),
    /** Deadline of each request from its actual send to the end of its body, ms. */
    timeoutMs: z.int().positive().default(30_000),
    request: requestTemplateSchema,
  })
  .refine((c) => c.maxConnections === undefined || c.maxConnections >= c.preAllocatedConnections, {
    message: 'maxConnections must be ≥ preAllocatedConnections',
    path: ['maxConnections'],
  });
export type ConstantArrivalRateConfig = z.output<typeof config>;

interface Connection {
  id: number;
  client: Client;
  busy: boolean;
}

interface Due {
  index: number;
  intendedAtMs: number;
}

/**
 * Send one request and read its whole body, counting bytes and lines without keeping it (an export of
 * hundreds of MiB passes through); the first 512 bytes are kept for witnesses. Never rejects.
 */
export async function sendCounting(
  client: Client,
  req: PreparedRequest,
  clock: () => number,
  timeoutMs: number,
): Promise<Omit<RequestRecord, 'index' | 'connection' | 'sentAtMs'>> {
  const t0 = clock();
  try {
    const res = await client.request({
      method: req.method as 'GET',
      path: req.path,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    let bytes = 0;
    let lines = 0;
    let head = '';
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (head.length < 512) head += chunk.subarray(0, 512 - head.length).toString('utf8');
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    }
    return {
      status: res.statusCode,
      latencyMs: clock() - t0,
      body: head,
      bodyBytes: bytes,
      bodyLines: lines,
    };
  } catch (err) {
    return { error: errorCode(err) };
  }
}

export function create(cfg: ConstantArrivalRateConfig): LoadExecutor {
  const maxConnections = cfg.maxConnections ?? cfg.preAllocatedConnections;
  const intervalMs = 1000 / cfg.rate;
  const scheduled = Math.max(1, Math.floor((cfg.rate * cfg.durationMs) / 1000));
  return {
    async run(ctx) {
      const newConnection = (): Connection => ({
        id: connections.length,
        client: new Client(ctx.baseUrl.origin, {
          pipelining: 1,
          headersTimeout: cfg.timeoutMs,
          bodyTimeout: cfg.timeoutMs,
          keepAliveTimeout: 60_000,
        }),
        busy: false,
      });
      const connections: Connection[] = [];
      const records: RequestRecord[] = [];
      const waited = new Set<number>();
      const queue: Due[] = [];
      const inFlight = new Set<Promise<void>>();
      const free: Connection[] = [];
      try {
        for (let i = 0; i < cfg.preAllocatedConnections; i++) connections.push(newConnection());
        await Promise.all(
          connections.map(async (c) => {
            const res = await c.client.request({ method: 'GET', path: ctx.healthPath });
            await res.body.dump();
          }),
        );
        free.push(...connections);

        const send = (c: Connection, due: Due) => {
          c.busy = true;
          const req = ctx.render(due.index);
          const sentAtMs = ctx.clock();
          const p = sendCounting(c.client, req, ctx.clock, cfg.timeoutMs).then((r) => {
            records.push({
              index: due.index,
              connection: c.id,
              sentAtMs,
              intendedAtMs: due.intendedAtMs,
              ...r,
            });
            c.busy = false;
            free.push(c);
            inFlight.delete(p);
            pump();
          });
          inFlight.add(p);
        };
        const pump = () => {
          const now = ctx.clock();
          while (queue.length > 0 && now - queue[0]!.intendedAtMs > cfg.maxQueueMs) {
            const d = queue.shift()!;
            records.push({
              index: d.index,
              connection: -1,
              sentAtMs: now,
              intendedAtMs: d.intendedAtMs,
              error: DROPPED,
            });
          }
          while (queue.length > 0) {
            let c = free.pop();
            if (!c && connections.length < maxConnections) {
              c = newConnection();
              connections.push(c);
            }
            if (!c) return;
            send(c, queue.shift()!);
          }
        };

        const startAtMs = ctx.clock() + 5;
        let next = 0;
        while (next < scheduled && !ctx.signal.aborted) {
          const due = startAtMs + next * intervalMs;
          const ahead = due - ctx.clock();
          if (ahead > 2) await sleep(ahead - 2);
          else if (ahead > 0) await new Promise((r) => setImmediate(r));
          else {
            // Everything due by now goes into the queue in order; the pump hands it to free connections.
            const now = ctx.clock();
            while (next < scheduled && startAtMs + next * intervalMs <= now) {
              const noConnection = free.length === 0 && connections.length >= maxConnections;
              if (queue.length > 0 || noConnection) waited.add(next);
              queue.push({ index: next, intendedAtMs: startAtMs + next * intervalMs });
              next++;
              pump();
            }
          }
        }
        // Drain: queued requests still get a connection (or are dropped after maxQueueMs).
        while (queue.length > 0 || inFlight.size > 0) {
          if (ctx.signal.aborted && queue.length > 0) {
            const now = ctx.clock();
            for (const d of queue.splice(0)) {
              records.push({
                index: d.index,
                connection: -1,
                sentAtMs: now,
                intendedAtMs: d.intendedAtMs,
                error: 'aborted',
              });
            }
          }
          if (inFlight.size > 0) await Promise.race([...inFlight, sleep(100)]);
          else await sleep(Math.min(100, cfg.maxQueueMs));
          pump();
        }
        records.sort((a, b) => a.index - b.index);
        const stats = openModelStats(records, {
          targetRatePerSec: cfg.rate,
          scheduled,
          connections: connections.length,
          waited,
        });
        const warnings: string[] = [];
        // Percentiles of a handful of sends say nothing about saturation: judge from 100 sends on.
        if (stats.sent >= 100 && stats.generatorLagMs.p99 > LATE_THRESHOLD_MS) {
          warnings.push(
            `the load generator fell behind its own schedule: p99 send lag ${stats.generatorLagMs.p99} ms (max ${stats.generatorLagMs.max} ms) for sends that had a free connection; the generator, not only the target, shaped this load`,
          );
        }
        if (stats.waitedForConnection > 0) {
          warnings.push(
            `${stats.waitedForConnection} sends found all ${maxConnections} connections busy and waited (the target could not keep up); corrected latency includes the wait${stats.dropped ? `; ${stats.dropped} dropped after ${cfg.maxQueueMs} ms` : ''}`,
          );
        }
        return {
          kind: 'constant-arrival-rate',
          records,
          startedAtMs: startAtMs,
          durationMs: ctx.clock() - startAtMs,
          warnings,
          openModel: stats,
        };
      } finally {
        await Promise.all(connections.map((c) => c.client.destroy().catch(() => undefined)));
      }
    },
  };
}

/** Planned length of the load, ms (for timelines). */
export function plannedDurationMs(cfg: { durationMs: number }): number {
  return cfg.durationMs;
}
