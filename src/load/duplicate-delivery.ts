import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { requestTemplateSchema } from '../scenario/request-template.js';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import { closeClients, openClients, sendWithUndici } from './burst/undici-common.js';
import type { LoadExecutor } from './executor.js';
import type { PreparedRequest, RequestRecord } from './types.js';

/**
 * `duplicate-delivery`: every message is delivered `copies` times, `gapMs` apart — a client that
 * retries after a timeout, a webhook sender, an at-least-once queue redelivering before the ack. The
 * copies are byte-for-byte the same request (same body, same `Idempotency-Key` if the template sets
 * one); each copy goes on its own fresh connection, as a retrying client's would.
 *
 * ```yaml
 * load:
 *   type: duplicate-delivery
 *   messages: 20          # distinct requests ({{n}} = 1..20)
 *   copies: 2             # deliveries of each
 *   gapMs: 30ms           # between copies of one message (send to send, not waiting for the answer)
 *   intervalMs: 20ms      # between the first copies of consecutive messages
 *   request: { method: POST, path: /api/payments, headers: { idempotency-key: "order-{{n}}" }, json: { order_id: "{{n}}", amount: 100 } }
 * ```
 *
 * Record `index` is `message × copies + copy`.
 */
export const config = z
  .strictObject({
    type: z.literal('duplicate-delivery'),
    messages: z.int().min(1).max(10_000).default(1),
    copies: z.int().min(2).max(100).default(2),
    gapMs: durationMs.default(0).meta({
      description:
        'Between the sends of two copies of one message, ms. 0: all copies at once (a racing redelivery).',
    }),
    intervalMs: durationMs
      .default(0)
      .meta({ description: 'Between the first copies of consecutive messages, ms.' }),
    request: requestTemplateSchema,
    timeoutMs: positiveDurationMs.default(10_000).meta({ description: 'Deadline for each response, ms.' }),
  })
  .meta({
    description:
      "`duplicate-delivery`: every message is delivered `copies` times, `gapMs` apart — a client that retries after a timeout, a webhook sender, an at-least-once queue redelivering before the ack. The copies are byte-for-byte the same request (same body, same `Idempotency-Key` if the template sets one); each copy goes on its own fresh connection, as a retrying client's would.",
    yaml: 'load:\n  type: duplicate-delivery\n  messages: 20          # distinct requests ({{n}} = 1..20)\n  copies: 2             # deliveries of each\n  gapMs: 30ms           # between copies of one message (send to send, not waiting for the answer)\n  intervalMs: 20ms      # between the first copies of consecutive messages\n  request: { method: POST, path: /api/payments, headers: { idempotency-key: "order-{{n}}" }, json: { order_id: "{{n}}", amount: 100 } }',
  });
export type DuplicateDeliveryConfig = z.output<typeof config>;

/** When the last copy is sent, ms after the load starts (responses come after). */
export function plannedDurationMs(cfg: DuplicateDeliveryConfig): number {
  return (cfg.messages - 1) * cfg.intervalMs + (cfg.copies - 1) * cfg.gapMs;
}

/** One copy on a connection of its own (as a retrying client or a redelivering queue would open). */
async function deliver(
  baseUrl: URL,
  req: PreparedRequest,
  index: number,
  clock: () => number,
  timeoutMs: number,
): Promise<RequestRecord> {
  const [client] = openClients(baseUrl, 1, timeoutMs);
  try {
    return await sendWithUndici(client!, { ...req, index }, index, clock, timeoutMs).done;
  } finally {
    await closeClients([client!]);
  }
}

export function create(cfg: DuplicateDeliveryConfig): LoadExecutor {
  return {
    async run(ctx) {
      const startedAtMs = ctx.clock();
      const inFlight: Promise<RequestRecord>[] = [];
      const schedule: { atMs: number; message: number; copy: number }[] = [];
      for (let m = 0; m < cfg.messages; m++) {
        for (let c = 0; c < cfg.copies; c++)
          schedule.push({ atMs: m * cfg.intervalMs + c * cfg.gapMs, message: m, copy: c });
      }
      schedule.sort((a, b) => a.atMs - b.atMs);
      const rendered = new Map<number, PreparedRequest>();
      const progress = ctx.progress;
      if (progress) progress.planned = schedule.length;
      let interrupted = false;
      for (const s of schedule) {
        const wait = startedAtMs + s.atMs - ctx.clock();
        if (wait > 0) {
          try {
            await sleep(wait, undefined, { signal: ctx.signal });
          } catch {
            interrupted = true;
            break;
          }
        }
        let req = rendered.get(s.message);
        if (!req) {
          req = ctx.render(s.message);
          rendered.set(s.message, req);
        }
        if (progress) progress.sent++;
        const delivered = deliver(
          ctx.baseUrl,
          req,
          s.message * cfg.copies + s.copy,
          ctx.clock,
          cfg.timeoutMs,
        );
        if (progress) void delivered.then(() => progress.answered++);
        inFlight.push(delivered);
      }
      const records = (await Promise.all(inFlight)).sort((a, b) => a.index - b.index);
      return {
        kind: 'duplicate-delivery',
        records,
        startedAtMs,
        durationMs: ctx.clock() - startedAtMs,
        warnings: interrupted ? ['interrupted: not every copy was sent'] : [],
      };
    },
  };
}
