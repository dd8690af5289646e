import { z } from 'zod';
import { durationMs } from '../duration.js';
import { type Fault, type FaultCheckContext, faultConfig } from '../fault.js';

/**
 * `restart-replica`: a rolling-deploy step on one replica — `signal` (default SIGTERM, so the target
 * can drain), SIGKILL after `graceMs`, then start it again and wait until it is healthy. The fault's
 * window is the restart itself: from the signal to healthy again.
 *
 * ```yaml
 * faults:
 *   - { type: restart-replica, at: 3s, replica: 0 }
 * ```
 */
export const config = faultConfig('restart-replica', {
  replica: z.int().nonnegative(),
  signal: z.enum(['SIGTERM', 'SIGINT', 'SIGKILL']).default('SIGTERM'),
  graceMs: durationMs
    .default(3_000)
    .meta({ description: 'Wait this long for the replica to exit before SIGKILL, ms.' }),
}).meta({
  description:
    "`restart-replica`: a rolling-deploy step on one replica — `signal` (default SIGTERM, so the target can drain), SIGKILL after `graceMs`, then start it again and wait until it is healthy. The fault's window is the restart itself: from the signal to healthy again.",
  yaml: 'faults:\n  - { type: restart-replica, at: 3s, replica: 0 }',
});
export type RestartReplicaConfig = z.output<typeof config>;

export function create(cfg: RestartReplicaConfig): Fault {
  return {
    type: 'restart-replica',
    target: `replica ${cfg.replica}`,
    async apply(ctx) {
      const { pid } = await ctx.env.restartReplica(cfg.replica, { signal: cfg.signal, graceMs: cfg.graceMs });
      ctx.note(`${cfg.signal}, restarted as pid ${pid ?? '?'}, healthy at ${ctx.clock().toFixed(0)} ms`);
      return undefined;
    },
  };
}

export function resources(cfg: RestartReplicaConfig): string[] {
  return [`replica:${cfg.replica}`];
}

/** At least the grace period (the time to come back up is not known in advance). */
export function windowMs(cfg: RestartReplicaConfig): number {
  return cfg.graceMs;
}

export function check(cfg: RestartReplicaConfig, ctx: FaultCheckContext): string[] {
  return cfg.replica >= ctx.replicas
    ? [`replica ${cfg.replica} does not exist: the target has ${ctx.replicas} (0..${ctx.replicas - 1})`]
    : [];
}
