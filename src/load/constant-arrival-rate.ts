import { Client } from 'undici';
import { z } from 'zod';
import { requestTemplateSchema } from '../scenario/request-template.js';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import { DROPPED, LATE_THRESHOLD_MS, openModelStats } from './constant-arrival-rate-stats.js';
import { CountingRequest } from './counting-request.js';
import { DueTimer } from './due-timer.js';
import type { LoadExecutor } from './executor.js';
import { SendLog } from './send-log.js';
import type { LoadCounters, PreparedRequest } from './types.js';

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
 *   request: { method: GET, path: "/api/things/{{n}}" }
 * ```
 *
 * Connections: HTTP/1.1 keep-alive, one request in flight each (no pipelining). When a request is due
 * and every open connection is busy, a new one is opened up to `maxConnections`; beyond that the
 * request waits in a FIFO queue for the next free connection — its corrected latency includes the
 * wait. A request that waited `maxQueueMs` without getting a connection is *dropped*: recorded with
 * error `dropped` and no latency (k6 drops at once; we wait, because dropping at once would hide exactly
 * the stall coordinated-omission correction is there to show).
 *
 * Send time: a request's `sentAtMs` is when undici writes it to its socket (`counting-request.ts`), so
 * send lag (actual − intended) includes any wait for a connection to open or to become reusable.
 *
 * Timing (`due-timer.ts`): the scheduler sleeps with `setTimeout` until 2 ms before the next intended
 * send, then turns the event loop with `setImmediate` (so responses are still read) until it is due; all
 * sends due by then go out in that turn. At 500 req/s and above this keeps one core busy. The request
 * path allocates little and keeps no object per request while the schedule runs (no promise, stream or
 * timer per request; records in typed arrays), so scavenges stay short (about 0.5 ms at 2,000 req/s).
 *
 * Warm-up (`warmUpMs`): before the clock starts, the same schedule runs at the configured rate against
 * the health path on the pre-allocated connections, unrecorded, then rests 50 ms. A cold generator runs
 * interpreted code while V8 compiles the send path in the background, and sends late meanwhile.
 * Measured, 10 s at 2,000 req/s on 2 vCPUs: after a 50 ms burst of 1,000 health requests, 184–272
 * sends were more than 1 ms late, 150–210 of them in the first 0.5 s; after 0.5 s at the rate, 22–144;
 * after 1 s, 11–37. The load's `startedAtMs` is after the warm-up, and so are the fault timeline's start
 * (its `at` times count from the first measured send) and the trial's window (`warmsUp`).
 *
 * If the generator's own lag (sends that had a free connection but went out late) has p99 over 1 ms,
 * the run carries a warning: the generator, not the target, limited the schedule.
 */
export const config = z
  .strictObject({
    type: z.literal('constant-arrival-rate'),
    rate: z.number().positive().max(1_000_000).meta({ description: 'Arrival rate, req/s.' }),
    durationMs: positiveDurationMs.meta({
      description: 'How long new requests arrive, ms; in-flight requests are then awaited.',
    }),
    preAllocatedConnections: z
      .int()
      .min(1)
      .max(10_000)
      .default(10)
      .meta({ description: 'Connections opened (one `GET` of the health path each) before the warm-up.' }),
    maxConnections: z
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .meta({ description: 'Most connections ever open; default `preAllocatedConnections`.' }),
    maxQueueMs: positiveDurationMs
      .default(10_000)
      .meta({ description: 'Longest a due request waits for a connection before it is dropped, ms.' }),
    timeoutMs: positiveDurationMs
      .default(30_000)
      .meta({ description: 'Deadline of each request from its actual send to the end of its body, ms.' }),
    warmUpMs: durationMs.default(500).meta({
      description:
        'How long the schedule runs against the health path before the clock starts, ms; 0: no warm-up.',
    }),
    request: requestTemplateSchema,
  })
  .refine((c) => c.maxConnections === undefined || c.maxConnections >= c.preAllocatedConnections, {
    message: 'maxConnections must be ≥ preAllocatedConnections',
    path: ['maxConnections'],
  })
  .meta({
    description:
      "`constant-arrival-rate` (k6's name): the open model. Request k is *intended* at `k × 1000 / rate` ms after the start, whatever happened to the requests before it — users keep arriving while the service stalls. Latency is recorded from the intended send time (corrected for coordinated omission, as wrk2 does; Gil Tene) and from the actual send (uncorrected), both in HDR histograms (`constant-arrival-rate-stats.ts`).",
    yaml: 'load:\n  type: constant-arrival-rate\n  rate: 2000                    # req/s\n  durationMs: 10000\n  preAllocatedConnections: 20   # opened and warmed before the clock starts\n  maxConnections: 200           # grown on demand, one request in flight per connection\n  request: { method: GET, path: "/api/things/{{n}}" }',
  });
export type ConstantArrivalRateConfig = z.output<typeof config>;

interface Connection {
  id: number;
  client: Client;
  /** The request on the wire, if any (one at a time: no pipelining). */
  request: CountingRequest | undefined;
}

interface Due {
  index: number;
  intendedAtMs: number;
}

/** One pass of the schedule: the warm-up or the measured load. */
interface Phase {
  render: (i: number) => PreparedRequest;
  log: SendLog;
  /** Indexes of sends that found no free connection at their intended time. */
  waited: Set<number>;
  /** Whether connections may be opened beyond the pre-allocated ones. */
  grow: boolean;
  /** Progress counters of the measured phase (absent for the warm-up, or without a display). */
  progress?: LoadCounters;
}

/** Pause between the warm-up and the clock's start, for V8's background compilation, ms. */
const WARM_UP_REST_MS = 50;

/** Error a request gets when its deadline (`timeoutMs` from its actual send) passed. */
const deadlinePassed = () => new DOMException('request deadline passed', 'TimeoutError');

export function create(cfg: ConstantArrivalRateConfig): LoadExecutor {
  const maxConnections = cfg.maxConnections ?? cfg.preAllocatedConnections;
  const intervalMs = 1000 / cfg.rate;
  const scheduled = Math.max(1, Math.floor((cfg.rate * cfg.durationMs) / 1000));
  const warmUpRequests = Math.floor((cfg.rate * cfg.warmUpMs) / 1000);
  return {
    warmsUp: true,
    async run(ctx) {
      const newConnection = (): Connection => ({
        id: connections.length,
        client: new Client(ctx.baseUrl.origin, {
          pipelining: 1,
          headersTimeout: cfg.timeoutMs,
          bodyTimeout: cfg.timeoutMs,
          keepAliveTimeout: 60_000,
        }),
        request: undefined,
      });
      const connections: Connection[] = [];
      /** Idle connections, longest idle first: undici reuses a connection one event-loop turn after its response. */
      const free: Connection[] = [];
      const queue: Due[] = [];
      const timer = new DueTimer(ctx.clock);
      let phase: Phase | undefined;
      let inFlight = 0;
      let onSettled: (() => void) | undefined;
      let sweep: NodeJS.Timeout | undefined;

      const send = (c: Connection, due: Due, p: Phase) => {
        inFlight++;
        if (p.progress) p.progress.sent++;
        c.request = CountingRequest.send(c.client, p.render(due.index), ctx.clock, (r) => {
          p.log.add(due.index, c.id, due.intendedAtMs, r.result());
          if (p.progress) p.progress.answered++;
          c.request = undefined;
          free.push(c);
          inFlight--;
          onSettled?.();
          pump();
        });
      };
      /** Hand queued sends to free connections (opening new ones up to the limit); drop the stale. */
      const pump = () => {
        const p = phase;
        if (!p) return;
        const now = ctx.clock();
        while (queue.length > 0 && now - queue[0]!.intendedAtMs > cfg.maxQueueMs) {
          const d = queue.shift()!;
          p.log.add(d.index, -1, d.intendedAtMs, { sentAtMs: now, error: DROPPED });
        }
        while (queue.length > 0) {
          let c = free.shift();
          if (!c && p.grow && connections.length < maxConnections) {
            c = newConnection();
            connections.push(c);
          }
          if (!c) return;
          send(c, queue.shift()!, p);
        }
      };
      /** Queue `count` sends `everyMs` apart from `startAtMs` as they fall due; resolves after the last. */
      const schedule = (p: Phase, startAtMs: number, everyMs: number, count: number) =>
        new Promise<void>((resolve) => {
          phase = p;
          const intendedAt = (k: number) => startAtMs + k * everyMs;
          let next = 0;
          const stop = () => {
            timer.cancel();
            resolve();
          };
          ctx.signal.addEventListener('abort', stop, { once: true });
          // Everything due by now goes into the queue in order; the pump hands it to free connections.
          const tick = () => {
            const now = ctx.clock();
            while (next < count && intendedAt(next) <= now) {
              const noConnection = free.length === 0 && (!p.grow || connections.length >= maxConnections);
              if (queue.length > 0 || noConnection) p.waited.add(next);
              queue.push({ index: next, intendedAtMs: intendedAt(next) });
              next++;
              pump();
            }
            if (next < count) timer.at(intendedAt(next), tick);
            else {
              ctx.signal.removeEventListener('abort', stop);
              resolve();
            }
          };
          timer.at(startAtMs, tick);
        });
      /** Wait for the requests in flight; queued ones still get a connection or are dropped. */
      const drain = async (p: Phase, untilMs = Number.POSITIVE_INFINITY) => {
        while ((queue.length > 0 || inFlight > 0) && ctx.clock() < untilMs) {
          if (ctx.signal.aborted && queue.length > 0) {
            const now = ctx.clock();
            for (const d of queue.splice(0)) {
              p.log.add(d.index, -1, d.intendedAtMs, { sentAtMs: now, error: 'aborted' });
            }
          }
          let wait: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            onSettled = resolve;
            wait = setTimeout(resolve, inFlight > 0 ? 100 : Math.min(100, cfg.maxQueueMs));
          });
          clearTimeout(wait);
          onSettled = undefined;
          pump();
        }
      };

      try {
        for (let i = 0; i < cfg.preAllocatedConnections; i++) connections.push(newConnection());
        free.push(...connections);
        // One timer for every deadline instead of one per request.
        sweep = setInterval(
          () => {
            const now = ctx.clock();
            for (const c of connections) {
              const r = c.request;
              if (r?.written && !r.finished && now - r.sentAtMs > cfg.timeoutMs) r.abort(deadlinePassed());
            }
          },
          Math.min(1000, Math.max(10, cfg.timeoutMs / 10)),
        );

        const health = { index: 0, method: 'GET', path: ctx.healthPath, headers: {} };
        await Promise.all(
          connections.map(
            (c) => new Promise((resolve) => CountingRequest.send(c.client, health, ctx.clock, resolve)),
          ),
        );
        if (warmUpRequests > 0 && !ctx.signal.aborted) {
          // Warm-up (see above). Sends still queued when it ends are abandoned, and its stragglers get
          // at most a second before the clock starts anyway.
          const warmUp: Phase = { render: () => health, log: new SendLog(), waited: new Set(), grow: false };
          await schedule(warmUp, ctx.clock(), intervalMs, warmUpRequests);
          queue.length = 0;
          await drain(warmUp, ctx.clock() + 1000);
          await new Promise((resolve) => setTimeout(resolve, WARM_UP_REST_MS));
        }

        const measured: Phase = {
          render: ctx.render,
          log: new SendLog(),
          waited: new Set(),
          grow: true,
          progress: ctx.progress,
        };
        if (ctx.progress) ctx.progress.planned = scheduled;
        const startAtMs = ctx.clock() + 5;
        ctx.measuredLoadStarts?.();
        if (!ctx.signal.aborted) await schedule(measured, startAtMs, intervalMs, scheduled);
        await drain(measured);
        const records = measured.log.toRecords().sort((a, b) => a.index - b.index);
        const stats = openModelStats(records, {
          targetRatePerSec: cfg.rate,
          scheduled,
          connections: connections.length,
          waited: measured.waited,
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
        clearInterval(sweep);
        timer.cancel();
        await Promise.all(connections.map((c) => c.client.destroy().catch(() => undefined)));
      }
    },
  };
}

/** Planned length of the load, ms (for timelines). */
export function plannedDurationMs(cfg: { durationMs: number }): number {
  return cfg.durationMs;
}
