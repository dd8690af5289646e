import { z } from 'zod';
import { durationMs } from '../timeline/duration.js';

/**
 * What an HTTP fault is (`http-faults.ts` applies it): its configuration, validated by one schema that the
 * scenario format reuses, and the record the proxy keeps of every request.
 */
export const onStartSchema = z.enum(['let-finish', 'fail-in-flight', 'reset-in-flight']);
/** What happens to requests already in flight when the fault is set. */
export type OnStart = z.output<typeof onStartSchema>;

/** Which requests a fault applies to; neither `first` nor `probability` = all. */
const selection = {
  /** Only the first N requests that arrive (or are in flight, with an `onStart` other than let-finish). */
  first: z.int().positive().optional(),
  /** Each request independently with this probability (0..1), from the seeded random source. */
  probability: z.number().min(0).max(1).optional(),
  /** Only requests whose path starts with this (e.g. `/api/charge`). */
  pathPrefix: z.string().startsWith('/').optional(),
};

export const httpFaultSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('status'),
      status: z.int().min(100).max(599).meta({ description: 'Status returned, e.g. 503.' }),
      body: z.string().default('').meta({ description: 'Response body; default empty.' }),
      headers: z.record(z.string(), z.string()).default({}),
      onStart: onStartSchema.default('let-finish'),
      ...selection,
    }),
    z.strictObject({
      type: z.literal('abort'),
      afterBytes: z.int().nonnegative().optional().meta({
        description:
          'Body bytes sent before the connection is destroyed; absent = destroy before the headers.',
      }),
      reset: z
        .boolean()
        .default(false)
        .meta({ description: 'Destroy with a TCP RST (`resetAndDestroy`) instead of a FIN.' }),
      onStart: onStartSchema.default('let-finish'),
      ...selection,
    }),
    z.strictObject({
      type: z.literal('delay'),
      delayMs: durationMs.meta({ description: 'Hold each request this long before forwarding it, ms.' }),
      onStart: onStartSchema.exclude(['fail-in-flight']).default('let-finish'),
      ...selection,
    }),
  ])
  .refine((f) => f.first === undefined || f.probability === undefined, {
    message: 'give first or probability, not both',
  })
  .meta({ jsonSchema: { not: { required: ['first', 'probability'] } } });
/** An HTTP fault as written (defaults not applied). */
export type HttpFaultInput = z.input<typeof httpFaultSchema>;
export type HttpFault = z.output<typeof httpFaultSchema>;

/** One request the proxy saw. Filled in as it progresses; `records()` returns copies. */
export interface HttpRequestRecord {
  /** 1-based arrival order. */
  seq: number;
  /** Arrival, ms on the proxy's clock. */
  atMs: number;
  /** When the response ended or the connection was cut, ms on the proxy's clock. */
  endMs?: number;
  method: string;
  /** Path with query string. */
  path: string;
  /** The headers of interest (`recordHeaders`), lower-case names. */
  headers: Record<string, string>;
  /** Status sent to the client; absent if none was (cut before the headers). */
  status?: number;
  /** The fault that applied to this request, if any. */
  fault?: HttpFault['type'];
  /** The fault hit this request while it was in flight, when the fault was set (`onStart`). */
  hitInFlight?: boolean;
  /** `ok` upstream answer passed on; `fault` status answered by the proxy; `aborted` / `reset` cut by a fault; `upstream-error` (502); `client-gone`; `pending`. */
  outcome: 'pending' | 'ok' | 'fault' | 'aborted' | 'reset' | 'upstream-error' | 'client-gone';
  error?: string;
}
