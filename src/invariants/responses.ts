import { z } from 'zod';
import type { RequestRecord } from '../load/types.js';
import type { Invariant } from './types.js';
import { MAX_WITNESSES_KEPT } from './types.js';

/**
 * `responses`: what the clients were told. Two kinds of rule:
 * - `allowed`: statuses every response must have (a request that got none — reset, timeout — is
 *   `error` and is never allowed unless `error` is listed);
 * - `counts`: bounds per status (`409`), status class (`2xx`, `5xx`) or `error`, each
 *   `{exactly | min | max}`.
 *
 * ```yaml
 * - type: responses
 *   name: single-completion
 *   allowed: [200, 409]
 *   counts: { 2xx: { exactly: 1 }, 5xx: { max: 0 } }
 * ```
 *
 * Witnesses are the requests that break a rule: index, connection, status or error, body. A bound
 * broken by too few responses has none (the responses that did match show nothing wrong).
 *
 * A trial that recorded no request is `unknown`: nothing was measured, so no rule can hold or break.
 */
const STATUS_KEY = /^([1-5]xx|[1-5]\d\d|error)$/;
const bound = z
  .strictObject({
    exactly: z.int().nonnegative().optional(),
    min: z.int().nonnegative().optional(),
    max: z.int().nonnegative().optional(),
  })
  .refine((b) => b.exactly !== undefined || b.min !== undefined || b.max !== undefined, {
    message: 'give exactly, min or max',
  })
  .meta({ jsonSchema: { anyOf: [{ required: ['exactly'] }, { required: ['min'] }, { required: ['max'] }] } });

/** What is wrong with an `allowed` entry, said plainly (zod would say only "Invalid input"). */
function allowedStatusError(iss: { input?: unknown }): string {
  const v = iss.input;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) {
    return `${JSON.stringify(v)} is a string: write the status as a number, ${v.trim()}, without quotes`;
  }
  if (typeof v === 'number')
    return `${v} is not an HTTP status: use a whole number from 100 to 599, or error`;
  return `${JSON.stringify(v)} is not a status: use a number from 100 to 599, or error (no response)`;
}

export const config = z
  .strictObject({
    type: z.literal('responses'),
    name: z.string().min(1),
    description: z.string().optional(),
    allowed: z
      .array(z.union([z.int().min(100).max(599), z.literal('error')], { error: allowedStatusError }))
      .optional()
      .meta({
        description:
          'Statuses every response must have, as numbers (`200`, not `"200"`); `error` allows a request that got no response (reset, timeout).',
        examples: [[200, 409]],
      }),
    counts: z
      .record(z.string().regex(STATUS_KEY, 'a status (409), a class (2xx) or error'), bound)
      .optional()
      .meta({
        description:
          'Bounds per status (`409`), status class (`2xx`, `5xx`) or `error`, each `{ exactly | min | max }` (a number of responses).',
        examples: [{ '2xx': { exactly: 1 }, '5xx': { max: 0 } }],
      }),
  })
  .refine((c) => c.allowed !== undefined || c.counts !== undefined, {
    message: 'give allowed, counts or both',
  })
  .meta({
    jsonSchema: { anyOf: [{ required: ['allowed'] }, { required: ['counts'] }] },
    description:
      '`responses`: what the clients were told. Two kinds of rule: - `allowed`: statuses every response must have (a request that got none — reset, timeout — is `error` and is never allowed unless `error` is listed); - `counts`: bounds per status (`409`), status class (`2xx`, `5xx`) or `error`, each `{exactly | min | max}`.',
    yaml: '- type: responses\n  name: single-completion\n  allowed: [200, 409]\n  counts: { 2xx: { exactly: 1 }, 5xx: { max: 0 } }',
  });
export type ResponsesInvariantConfig = z.output<typeof config>;

/** The key a record counts under: its status, or `error`. */
function statusOf(r: RequestRecord): number | 'error' {
  return r.status ?? 'error';
}

function matches(key: string, r: RequestRecord): boolean {
  const s = statusOf(r);
  if (key === 'error') return s === 'error';
  if (s === 'error') return false;
  if (key.endsWith('xx')) return Math.floor(s / 100) === Number(key[0]);
  return s === Number(key);
}

function witness(r: RequestRecord, rule: string): Record<string, unknown> {
  return {
    rule,
    request: r.index,
    connection: r.connection,
    status: r.status ?? null,
    error: r.error ?? null,
    sentAtMs: Number(r.sentAtMs.toFixed(3)),
    body: r.body ?? null,
  };
}

export function create(cfg: ResponsesInvariantConfig): Invariant {
  return {
    name: cfg.name,
    type: 'responses',
    async check({ load }) {
      const records = load.records;
      if (records.length === 0) {
        return {
          name: cfg.name,
          type: 'responses',
          holds: 'unknown',
          summary: 'no request was recorded: nothing to judge',
          witnesses: [],
          witnessCount: 0,
        };
      }
      const problems: string[] = [];
      const witnesses: Record<string, unknown>[] = [];
      if (cfg.allowed) {
        const allowed = new Set<number | 'error'>(cfg.allowed);
        const bad = records.filter((r) => !allowed.has(statusOf(r)));
        if (bad.length > 0) {
          const byStatus = new Map<string, number>();
          for (const r of bad)
            byStatus.set(String(statusOf(r)), (byStatus.get(String(statusOf(r))) ?? 0) + 1);
          problems.push(
            `${[...byStatus].map(([s, n]) => `${n}× ${s}`).join(', ')} not in allowed [${cfg.allowed.join(', ')}]`,
          );
          witnesses.push(...bad.map((r) => witness(r, 'allowed')));
        }
      }
      for (const [key, b] of Object.entries(cfg.counts ?? {})) {
        const hit = records.filter((r) => matches(key, r));
        const n = hit.length;
        const failed =
          (b.exactly !== undefined && n !== b.exactly) ||
          (b.min !== undefined && n < b.min) ||
          (b.max !== undefined && n > b.max);
        if (!failed) continue;
        const want = [
          b.exactly !== undefined ? `exactly ${b.exactly}` : '',
          b.min !== undefined ? `at least ${b.min}` : '',
          b.max !== undefined ? `at most ${b.max}` : '',
        ]
          .filter(Boolean)
          .join(' and ');
        problems.push(`${n}× ${key}, expected ${want}`);
        // Too many: the responses counted are the witnesses. Too few: there is nothing to point at but the total.
        if ((b.exactly !== undefined && n > b.exactly) || (b.max !== undefined && n > b.max)) {
          witnesses.push(...hit.map((r) => witness(r, `counts.${key}`)));
        }
      }
      const unique = [...new Map(witnesses.map((w) => [w.request, w])).values()];
      return {
        name: cfg.name,
        type: 'responses',
        holds: problems.length === 0,
        summary: problems.length === 0 ? `${records.length} responses as expected` : problems.join('; '),
        witnesses: unique.slice(0, MAX_WITNESSES_KEPT),
        witnessCount: unique.length,
      };
    },
  };
}
