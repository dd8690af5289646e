import autocannon from 'autocannon';
import { z } from 'zod';
import { requestTemplateSchema } from '../scenario/request-template.js';
import { positiveDurationMs } from '../timeline/duration.js';
import type { LoadExecutor } from './executor.js';
import { type LatencySummary, latencyHistogram, summarizeHistogram } from './latency.js';
import type { RequestRecord } from './types.js';

/**
 * `closed-model`: N connections, each sending its next request as soon as the previous response
 * arrived (k6 `constant-vus`, wrk, autocannon): throughput under a fixed concurrency. Driven by
 * autocannon (its HTTP/1.1 client is faster than a general-purpose one), in this process.
 *
 * ```yaml
 * load:
 *   type: closed-model
 *   connections: 50
 *   durationMs: 10000
 *   pipelining: 1
 *   request: { method: GET, path: /health }
 * ```
 *
 * What is kept: a closed model sends tens of thousands of requests per second, too many to keep one
 * record each in report.json. Every response still counts: status counts and an HDR histogram of
 * every response time (autocannon's `response` event: status, bytes, ms) go into `aggregate`; only the
 * first `keepRecords` responses become `RequestRecord`s (their `sentAtMs` is derived as arrival − latency,
 * their connection is autocannon's client number; bodies are not kept). Connection errors and timeouts
 * are counted, not recorded one by one. The request is rendered once (request 0): a closed model
 * measures one request's throughput; placeholders like `{{n}}` are not varied per request.
 *
 * Closed-model latency suffers from coordinated omission by construction (a stalled target stops the
 * clients from sending): use `constant-arrival-rate` when latency, not throughput, is the question.
 */
export const config = z
  .strictObject({
    type: z.literal('closed-model'),
    connections: z.int().min(1).max(10_000).default(10).meta({ description: 'Concurrent connections.' }),
    durationMs: positiveDurationMs.meta({ description: 'How long to send, ms.' }),
    pipelining: z
      .int()
      .min(1)
      .max(100)
      .default(1)
      .meta({ description: 'Requests in flight per connection (HTTP/1.1 pipelining); 1 = none.' }),
    timeoutMs: positiveDurationMs
      .default(10_000)
      .meta({ description: 'Per-request timeout, ms (autocannon counts a timeout as an error).' }),
    keepRecords: z
      .int()
      .min(0)
      .max(100_000)
      .default(1_000)
      .meta({ description: 'Responses kept as individual records, the first ones.' }),
    request: requestTemplateSchema,
  })
  .meta({
    description:
      '`closed-model`: N connections, each sending its next request as soon as the previous response arrived (k6 `constant-vus`, wrk, autocannon): throughput under a fixed concurrency. Driven by autocannon (its HTTP/1.1 client is faster than a general-purpose one), in this process.',
    yaml: 'load:\n  type: closed-model\n  connections: 50\n  durationMs: 10000\n  pipelining: 1\n  request: { method: GET, path: /health }',
  });
export type ClosedModelConfig = z.output<typeof config>;

/** Totals over every request of a closed-model run. */
export interface AggregateLoad {
  /** Responses received. */
  requests: number;
  /** Responses per second over the run, req/s. */
  ratePerSec: number;
  /** Response body bytes per second, bytes/s. */
  bytesPerSec: number;
  statusCounts: Record<string, number>;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  /** Every response's time, ms (HDR). */
  latency: LatencySummary;
  /** How many of the requests are in `records`. */
  recordsKept: number;
}

export function create(cfg: ClosedModelConfig): LoadExecutor {
  return {
    async run(ctx) {
      const req = ctx.render(0);
      const records: RequestRecord[] = [];
      const statusCounts: Record<string, number> = {};
      const h = latencyHistogram();
      let responses = 0;
      let bytes = 0;
      const clients = new Map<object, number>();
      const startedAtMs = ctx.clock();
      try {
        const result = await new Promise<autocannon.Result>((resolve, reject) => {
          const instance = autocannon(
            {
              url: new URL(req.path, ctx.baseUrl.origin).href,
              connections: cfg.connections,
              pipelining: cfg.pipelining,
              duration: cfg.durationMs / 1000,
              timeout: cfg.timeoutMs / 1000,
              method: req.method as 'GET',
              headers: req.headers,
              body: req.body,
            },
            (err, res) => (err ? reject(err) : resolve(res)),
          );
          const stop = () => instance.stop();
          ctx.signal.addEventListener('abort', stop, { once: true });
          instance.on('done', () => ctx.signal.removeEventListener('abort', stop));
          const progress = ctx.progress;
          instance.on('response', (client: object, status: number, resBytes: number, ms: number) => {
            responses++;
            if (progress) {
              progress.sent = responses;
              progress.answered = responses;
            }
            bytes += resBytes;
            statusCounts[String(status)] = (statusCounts[String(status)] ?? 0) + 1;
            h.recordValue(Math.max(1, Math.round(ms * 1000)));
            if (records.length < cfg.keepRecords) {
              let conn = clients.get(client);
              if (conn === undefined) {
                conn = clients.size;
                clients.set(client, conn);
              }
              const now = ctx.clock();
              records.push({
                index: records.length,
                connection: conn,
                sentAtMs: now - ms,
                status,
                latencyMs: ms,
              });
            }
          });
        });
        const durationMs = ctx.clock() - startedAtMs;
        if (result.errors > 0) statusCounts[`error:connection`] = result.errors;
        const aggregate: AggregateLoad = {
          requests: responses,
          ratePerSec: Math.round((responses / durationMs) * 1000 * 10) / 10,
          bytesPerSec: Math.round((bytes / durationMs) * 1000),
          statusCounts,
          errors: result.errors,
          timeouts: result.timeouts,
          latency: summarizeHistogram(h),
          recordsKept: records.length,
        };
        return {
          kind: 'closed-model',
          records,
          startedAtMs,
          durationMs,
          warnings:
            result.errors > 0 ? [`${result.errors} connection errors (${result.timeouts} timeouts)`] : [],
          aggregate,
        };
      } finally {
        h.destroy();
      }
    },
  };
}

/** Planned length of the load, ms (for timelines). */
export function plannedDurationMs(cfg: { durationMs: number }): number {
  return cfg.durationMs;
}
