import { z } from 'zod';
import { durationMs } from '../duration.js';
import { type Fault, type FaultCheckContext, faultConfig } from '../fault.js';

/**
 * `kill-replica`: SIGKILL replica `replica` (its whole process group) — a crash, an OOM kill, a node
 * lost (Jepsen's `kill` nemesis). No grace, no shutdown hooks: in-flight requests are reset and a task
 * it was running stops mid-way. With `restartAfter`, the replica is started again (same port, same
 * log file, appended) that long after the kill and the fault ends once it is healthy; without it, the
 * replica stays down for the rest of the trial (every replica is back up before the next trial).
 *
 * ```yaml
 * faults:
 *   - { type: kill-replica, at: 5s, replica: 1 }
 *   - { type: kill-replica, at: 2s, replica: 0, restartAfter: 3s }
 * ```
 */
export const config = faultConfig('kill-replica', {
  /** 0-based replica number (`INSTANCE_ID`). */
  replica: z.int().nonnegative(),
  signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGSTOP']).default('SIGKILL'),
  /** Start it again this long after the kill; default: stays down. Same as `for`. */
  restartAfter: durationMs.optional(),
});
export type KillReplicaConfig = z.output<typeof config>;

export function create(cfg: KillReplicaConfig): Fault {
  const forMs = cfg.restartAfter ?? cfg.for;
  return {
    type: 'kill-replica',
    target: `replica ${cfg.replica}`,
    persistent: forMs === undefined,
    forMs,
    async apply(ctx) {
      const { pid } = ctx.env.killReplica(cfg.replica, cfg.signal);
      ctx.note(`${cfg.signal} pid ${pid ?? '?'}`);
      if (forMs === undefined) return undefined;
      return async () => {
        const started = await ctx.env.restartReplica(cfg.replica);
        ctx.note(`restarted as pid ${started.pid ?? '?'}, healthy at ${ctx.clock().toFixed(0)} ms`);
      };
    },
  };
}

export function resources(cfg: KillReplicaConfig): string[] {
  return [`replica:${cfg.replica}`];
}

export function windowMs(cfg: KillReplicaConfig): number {
  return cfg.restartAfter ?? cfg.for ?? Number.POSITIVE_INFINITY;
}

export function check(cfg: KillReplicaConfig, ctx: FaultCheckContext): string[] {
  const out: string[] = [];
  if (cfg.replica >= ctx.replicas)
    out.push(
      `replica ${cfg.replica} does not exist: the target has ${ctx.replicas} (0..${ctx.replicas - 1})`,
    );
  if (cfg.restartAfter !== undefined && cfg.for !== undefined)
    out.push('give restartAfter or for, not both (they mean the same here)');
  return out;
}
