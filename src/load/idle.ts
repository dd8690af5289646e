import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { durationMs } from '../timeline/duration.js';
import type { LoadExecutor } from './executor.js';

/**
 * `idle`: no requests; the trial just lasts `durationMs` while the target works on its own — a
 * scheduler firing its cron tasks, a consumer draining a queue — and the fault timeline runs beside it.
 *
 * ```yaml
 * load: { type: idle, durationMs: 10s }
 * ```
 */
export const config = z
  .strictObject({
    type: z.literal('idle'),
    /** How long the trial lasts: `10s`, `500ms` or a number of ms. */
    durationMs,
  })
  .meta({
    description:
      '`idle`: no requests; the trial just lasts `durationMs` while the target works on its own — a scheduler firing its cron tasks, a consumer draining a queue — and the fault timeline runs beside it.',
    yaml: 'load: { type: idle, durationMs: 10s }',
  });
export type IdleConfig = z.output<typeof config>;

/** Known in advance: the timeline validator rejects faults planned after it. */
export function plannedDurationMs(cfg: IdleConfig): number {
  return cfg.durationMs;
}

export function create(cfg: IdleConfig): LoadExecutor {
  return {
    async run(ctx) {
      const startedAtMs = ctx.clock();
      const warnings: string[] = [];
      try {
        await sleep(cfg.durationMs, undefined, { signal: ctx.signal });
      } catch {
        warnings.push(
          `interrupted after ${(ctx.clock() - startedAtMs).toFixed(0)} ms of ${cfg.durationMs} ms`,
        );
      }
      return {
        kind: 'idle',
        records: [],
        startedAtMs,
        durationMs: ctx.clock() - startedAtMs,
        warnings,
      };
    },
  };
}
