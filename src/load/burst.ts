import { z } from 'zod';
import { requestTemplateSchema } from '../scenario/request-template.js';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import { senderFor, senders } from './burst/registry.js';
import type { SyncMode } from './burst/sender.js';
import type { LoadExecutor } from './executor.js';

/**
 * `burst`: N requests released together, to hit a race window that is often about 1 ms wide
 * (Kettle, "Smashing the state machine", 2023). Connections are opened first, then all requests are
 * released by the chosen sync mode (`burst/*.ts`).
 *
 * A burst that cannot run as written (a phase that times out, a target that does not speak the mode's
 * protocol or does not keep a partial request open) throws a `BurstFailure` (`burst/burst-failure.ts`)
 * with a stable `code`, a `message` naming the phase and how far it got, and a `hint` naming what would
 * work; the run makes that trial `unknown`.
 *
 * ```yaml
 * load:
 *   type: burst
 *   requests: 200          # N, one connection each
 *   sync: barrier          # naive | barrier | last-byte | single-packet
 *   request: { method: POST, path: /api/bookings, json: { shipment_id: "{{n}}", truck_id: 1, weight_kg: 10 } }
 * ```
 */
export const config = z
  .strictObject({
    type: z.literal('burst'),
    requests: z.int().min(1).max(10_000).meta({
      description:
        'Number of requests in the burst (one connection each for HTTP/1.1 modes). Two are enough for a check-then-act race between two clients; 10–50 raise the chance that two overlap in a trial, up to what the target serves at once (workers × threads, its pool size): past that, requests queue and test the queue, not the race. To cover every order of the SQL of 2–4 requests instead of sampling, use `load.type: interleave`.',
    }),
    sync: z
      .enum(Object.keys(senders) as [SyncMode, ...SyncMode[]])
      .default('last-byte')
      .meta({
        description:
          'How the requests are released together: `last-byte` (every request sent but its last byte, then all last bytes at once; any HTTP/1.x server), `single-packet` (HTTP/2 only), `barrier` (whole requests on warm connections in one tick), `naive` (what `Promise.all` does).',
      }),
    request: requestTemplateSchema,
    timeoutMs: positiveDurationMs.default(30_000).meta({
      description:
        "Deadline for each response after release, ms (else the request's record says `TIMEOUT`), and for each phase of the preparation over all connections (connect, warm-up, pre-send, hold: else the burst fails with `TIMEOUT in <phase>: <how many connections got through> after <timeoutMs> ms`).",
    }),
    holdMs: durationMs.default(100).meta({
      description:
        'Pause between pre-sending and releasing (`last-byte`, `single-packet`), ms. At its end the target must still hold every pre-sent request open and unanswered, else the burst fails (`PRESEND_REJECTED`).',
    }),
    streamsPerConnection: z
      .int()
      .min(1)
      .max(100)
      .default(25)
      .meta({ description: 'HTTP/2 streams per connection (`single-packet`).' }),
    releaseThreads: z
      .union([z.literal('auto'), z.int().min(1).max(256)], {
        error: "expected 'auto' or a whole number of threads from 1 to 256",
      })
      .default('auto')
      .meta({
        description:
          "Threads that write a `last-byte` burst's final bytes in parallel, or `auto`: one per 100 requests, at most the machine's cores (`os.availableParallelism()`). Each write costs several µs of kernel time, so one thread needs 1–3 ms for 200 connections. Other modes ignore it.",
      }),
    warmupPath: z
      .string()
      .startsWith('/')
      .optional()
      .meta({ description: "Warm-up path requested once per connection; default the target's health path." }),
    warmup: z.enum(['auto', 'on', 'off']).default('auto').meta({
      description:
        "Warm each connection with one `GET warmupPath` before the burst (`barrier`, `last-byte`, `single-packet`): `auto` (default) warms, and where the target closes a connection after its warm-up (HTTP/1.0, `Connection: close`: Python's `http.server`, gunicorn's `sync` worker) opens a fresh one before the burst instead, with a warning in the report; `on` requires warm connections (a target that does not keep them alive fails the burst with `WARMUP_NOT_KEEPALIVE`); `off` never warms (fresh connections, opened before the burst).",
    }),
    maxSpreadMs: positiveDurationMs.optional().meta({
      description:
        'A burst whose send spread (first to last release write, ms, client side) exceeds this makes the trial `unknown`, not `pass`: the race may have been missed because the burst was loose. Arrival spread is not observable at an arbitrary target; with `replicas` > 1 it is (the built-in balancer stamps when it hands each request, whole, to a replica), and the run judges it against the same bound (`run.ts`).',
    }),
  })
  .meta({
    description:
      '`burst`: N requests released together, to hit a race window that is often about 1 ms wide (Kettle, "Smashing the state machine", 2023). Connections are opened first, then all requests are released by the chosen sync mode (`burst/*.ts`).',
    yaml: 'load:\n  type: burst\n  requests: 200          # N, one connection each\n  sync: barrier          # naive | barrier | last-byte | single-packet\n  request: { method: POST, path: /api/bookings, json: { shipment_id: "{{n}}", truck_id: 1, weight_kg: 10 } }',
  });
export type BurstConfig = z.output<typeof config>;

export function create(cfg: BurstConfig): LoadExecutor {
  return {
    async run(ctx) {
      const requests = Array.from({ length: cfg.requests }, (_, i) => ctx.render(i));
      const sender = senderFor(cfg.sync)({
        baseUrl: ctx.baseUrl,
        clock: ctx.clock,
        timeoutMs: cfg.timeoutMs,
        warmupPath: cfg.warmupPath ?? ctx.healthPath,
        warmup: cfg.warmup,
        holdMs: cfg.holdMs,
        streamsPerConnection: cfg.streamsPerConnection,
        releaseThreads: cfg.releaseThreads,
      });
      const startedAtMs = ctx.clock();
      const progress = ctx.progress;
      try {
        if (progress) {
          progress.planned = cfg.requests;
          progress.stage = `preparing ${cfg.requests} requests (${cfg.sync})`;
        }
        await sender.prepare(requests);
        // Counted around the release, not inside it: nothing is added to a burst's hot path.
        if (progress) progress.stage = 'released, waiting for the responses';
        const outcome = await sender.release();
        if (progress) {
          progress.sent = outcome.records.length;
          progress.answered = outcome.records.length;
          progress.stage = undefined;
        }
        const loose = cfg.maxSpreadMs !== undefined && outcome.sendSpreadMs > cfg.maxSpreadMs;
        return {
          kind: 'burst',
          sync: cfg.sync,
          records: outcome.records,
          sendSpreadMs: outcome.sendSpreadMs,
          startedAtMs,
          durationMs: ctx.clock() - startedAtMs,
          warnings: outcome.warnings ?? [],
          inconclusive: loose
            ? `send spread ${outcome.sendSpreadMs.toFixed(3)} ms is looser than maxSpreadMs ${cfg.maxSpreadMs} ms`
            : undefined,
        };
      } finally {
        await sender.close();
      }
    },
  };
}
